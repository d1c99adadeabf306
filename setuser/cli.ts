/**
 * The command line of setuser, decided without side effects.
 *
 * Only the first argument can be an option; everything after USER belongs
 * to COMMAND. Node's parseArgs (lib/parse_options.ts) reads that option,
 * loaded only when the first argument looks like one: setuser runs in
 * every service start, and loading the parser costs more than the rest of
 * its parsing (lib/parse_options.ts).
 *
 * @module
 */

/** The text `setuser --help` prints. */
export const USAGE = `Usage: setuser USER[:GROUP] COMMAND [ARGS...]

Runs COMMAND as USER in place of this process (same PID, same stdio), with
USER's uid, login group (or GROUP) and the supplementary groups the group
database gives USER, and with HOME, USER, LOGNAME, UID and SHELL set from
USER's passwd entry. USER and GROUP are names or numeric ids; a numeric uid
needs a passwd entry. Must run as root.

Example, in a runit run script:
  exec /sbin/setuser memcache /usr/bin/memcached

Exit status: COMMAND's own; 1 on a usage error, an unknown user or group,
or a failed privilege drop (nothing is run then); 126 when COMMAND cannot
be executed; 127 when COMMAND is not found.
`;

/** What the command line asks for. */
export type Invocation =
  | { readonly kind: "help" }
  | { readonly kind: "usage-error"; readonly message: string }
  | {
    readonly kind: "run";
    /** The user: a name or a numeric uid. */
    readonly user: string;
    /** The primary group when given as USER:GROUP: a name or numeric gid. */
    readonly group?: string;
    /** COMMAND and its arguments, untouched. */
    readonly command: readonly string[];
  };

/** Decides what `setuser ARGS...` asks for. */
export async function parseArgs(args: readonly string[]): Promise<Invocation> {
  const [spec, ...command] = args;
  if (spec === undefined) {
    return { kind: "usage-error", message: "missing user" };
  }
  if (spec.startsWith("-")) {
    const { parseOptions } = await import("../lib/parse_options.ts");
    try {
      parseOptions({
        args: [spec],
        strict: true,
        options: { help: { type: "boolean", short: "h" } },
      });
    } catch {
      return { kind: "usage-error", message: `unknown option "${spec}"` };
    }
    return { kind: "help" };
  }
  const colon = spec.indexOf(":");
  const user = colon < 0 ? spec : spec.slice(0, colon);
  const group = colon < 0 ? undefined : spec.slice(colon + 1);
  if (user === "") {
    return { kind: "usage-error", message: `missing user in "${spec}"` };
  }
  if (group === "") {
    return { kind: "usage-error", message: `missing group in "${spec}"` };
  }
  if (command.length === 0) {
    return { kind: "usage-error", message: "missing command" };
  }
  return group === undefined
    ? { kind: "run", user, command }
    : { kind: "run", user, group, command };
}
