/**
 * The command line of install_clean, decided without side effects.
 *
 * Options other than our own go to `apt-get install`, in place: phusion's
 * install_clean passed its whole command line to apt-get install, and
 * Dockerfiles rely on e.g. `install_clean -t bookworm-backports foo`.
 * Unlike phusion's (which word-split "$*"), every argument stays one
 * argument.
 *
 * @module
 */

/** The text `install_clean --help` prints. */
export const USAGE =
  `Usage: install_clean [--install-recommends] [APT-OPTION...] PACKAGE...

Installs PACKAGEs with apt-get and leaves no apt lists or package cache
behind, for Dockerfiles: RUN install_clean nginx. Runs
  apt-get update
  apt-get install -y --no-install-recommends [APT-OPTION...] PACKAGE...
  apt-get autoremove -y
  apt-get clean
then empties /var/lib/apt/lists.
apt-get clean and the emptying run even when an earlier step failed. Every
apt-get runs with DEBIAN_FRONTEND=noninteractive.

  --install-recommends  install recommended packages too
  --help                print this text

Any other argument starting with "-" is an APT-OPTION, passed to
apt-get install in place (e.g. -t bookworm-backports).

Exit status: 0 on success; else that of the first step that failed (128+N
for apt-get killed by signal N, 126 or 127 when apt-get cannot be run or is
not found); 1 on a usage error or when the lists cannot be removed.
`;

/** What the command line asks for. */
export type Invocation =
  | { readonly kind: "help" }
  | { readonly kind: "usage-error"; readonly message: string }
  | {
    readonly kind: "install";
    /** Whether to drop --no-install-recommends. */
    readonly recommends: boolean;
    /** apt-get install's arguments: options and packages, in order. */
    readonly aptArgs: readonly string[];
  };

// apt-get options whose value is the next argument (apt-get(8)); their
// value is not a package. "--opt=value" and "-tvalue" carry their own.
const TAKES_VALUE: ReadonlySet<string> = new Set([
  "-t",
  "--target-release",
  "--default-release",
  "-o",
  "--option",
  "-c",
  "--config-file",
  "-a",
  "--host-architecture",
  "-P",
  "--build-profiles",
]);

/**
 * Decides what `install_clean ARGS...` asks for. Not node:util's parseArgs:
 * every option but ours belongs to apt-get, with apt-get's grammar (which of
 * them take the next word as a value), which parseArgs cannot be told
 * without listing all of apt's options.
 */
export function parseArgs(args: readonly string[]): Invocation {
  if (args.includes("--help")) return { kind: "help" };
  const aptArgs: string[] = [];
  let recommends = false;
  let packages = 0;
  let afterDashDash = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (afterDashDash || !arg.startsWith("-") || arg === "-") {
      packages++;
    } else if (arg === "--") {
      afterDashDash = true;
    } else if (arg === "--install-recommends") {
      recommends = true;
      continue;
    } else if (TAKES_VALUE.has(arg)) {
      if (i + 1 >= args.length) {
        return { kind: "usage-error", message: `missing value for "${arg}"` };
      }
      aptArgs.push(arg);
      i++;
      aptArgs.push(args[i]);
      continue;
    }
    aptArgs.push(arg);
  }
  if (packages === 0) {
    return { kind: "usage-error", message: "missing package" };
  }
  return { kind: "install", recommends, aptArgs };
}
