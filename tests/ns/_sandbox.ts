/**
 * Test harness: runs dist/my_init (or any command) as PID 1 of a fresh PID
 * and mount namespace, chrooted into an overlay of the host (sandbox.sh).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The built tools. */
export const DIST = `${ROOT}/dist`;
/** my_init as built by `make compile`. */
export const MY_INIT = `${DIST}/my_init`;

/**
 * A fixture file: text or bytes (mode 0644), or a script (mode 0755). Bytes
 * give files that are not UTF-8 (a JS string cannot hold invalid UTF-8).
 */
export type Fixture = Record<
  string,
  string | Uint8Array | { text: string | Uint8Array; mode: number }
>;

/** A script file for a fixture: `#!/bin/sh` + body, mode 0755. */
export function script(
  body: string,
  shebang = "#!/bin/sh",
): { text: string; mode: number } {
  return { text: `${shebang}\n${body}\n`, mode: 0o755 };
}

/** What a sandbox run needs. */
export interface SandboxOptions {
  /** The command run as PID 1 (default: dist/my_init + `args`). */
  command?: string[];
  /** Arguments of my_init. */
  args?: string[];
  /** Files laid over the root, by absolute path. */
  files?: Fixture;
  /** Environment of PID 1 (PATH is added). */
  env?: Record<string, string>;
  /** Mount /proc inside (default true). */
  proc?: boolean;
  /** A network namespace of its own (default true). */
  net?: boolean;
}

const decoder = new TextDecoder();

/** A running sandbox. */
export class Sandbox {
  /** Directory bind-mounted at /shared inside. */
  readonly shared: string;
  readonly #child: Deno.ChildProcess;
  readonly #fixture: string;
  #output?: Promise<
    { code: number; signal: Deno.Signal | null; stdout: string; stderr: string }
  >;

  private constructor(
    child: Deno.ChildProcess,
    shared: string,
    fixture: string,
  ) {
    this.#child = child;
    this.shared = shared;
    this.#fixture = fixture;
  }

  /** Starts a sandbox. */
  static async start(options: SandboxOptions = {}): Promise<Sandbox> {
    const fixture = await Deno.makeTempDir({ prefix: "ns-fixture-" });
    const shared = await Deno.makeTempDir({ prefix: "ns-shared-" });
    await Deno.chmod(shared, 0o777);
    for (const [path, spec] of Object.entries(options.files ?? {})) {
      const file = `${fixture}${path}`;
      await Deno.mkdir(dirname(file), { recursive: true });
      const { text, mode } =
        typeof spec === "string" || spec instanceof Uint8Array
          ? { text: spec, mode: 0o644 }
          : spec;
      if (typeof text === "string") await Deno.writeTextFile(file, text);
      else await Deno.writeFile(file, text);
      await Deno.chmod(file, mode);
    }
    const command = options.command ?? [MY_INIT, ...(options.args ?? [])];
    const unshare = [
      "--pid",
      "--fork",
      "--mount",
      "--propagation",
      "private",
      "--uts",
      "--ipc",
    ];
    if (options.net ?? true) unshare.push("--net");
    const child = new Deno.Command("unshare", {
      args: [
        ...unshare,
        "bash",
        `${ROOT}/tests/ns/sandbox.sh`,
        fixture,
        shared,
        options.proc ?? true ? "yes" : "no",
        "--",
        ...command,
      ],
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ...options.env,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new Sandbox(child, shared, fixture);
  }

  /** The host pid of the sandbox's PID 1 (unshare's forked child). */
  async pid1(): Promise<number> {
    for (let i = 0; i < 500; i++) {
      try {
        const text = await Deno.readTextFile(
          `/proc/${this.#child.pid}/task/${this.#child.pid}/children`,
        );
        const pid = parseInt(text.trim().split(" ")[0], 10);
        if (!Number.isNaN(pid)) return pid;
      } catch { /* not yet */ }
      await sleep(10);
    }
    throw new Error("sandbox PID 1 did not appear");
  }

  /** Sends a signal to the sandbox's PID 1 from outside, as `docker kill` does. */
  async kill(signal: Deno.Signal): Promise<void> {
    Deno.kill(await this.pid1(), signal);
  }

  /** Waits until /shared/NAME exists (written from inside); its text. */
  async waitFor(name: string, ms = 15000): Promise<string> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      try {
        return await Deno.readTextFile(`${this.shared}/${name}`);
      } catch { /* not yet */ }
      await sleep(10);
    }
    throw new Error(`/shared/${name} did not appear within ${ms} ms`);
  }

  /** Reads /shared/NAME, or "" if absent. */
  async read(name: string): Promise<string> {
    try {
      return await Deno.readTextFile(`${this.shared}/${name}`);
    } catch {
      return "";
    }
  }

  /** Waits for PID 1 to exit (killing it after `ms`); its exit code and output. */
  finished(
    ms = 30000,
  ): Promise<
    { code: number; signal: Deno.Signal | null; stdout: string; stderr: string }
  > {
    this.#output ??= (async () => {
      const timer = setTimeout(() => {
        try {
          this.#child.kill("SIGKILL");
        } catch { /* gone */ }
      }, ms);
      try {
        const out = await this.#child.output();
        return {
          code: out.code,
          signal: out.signal,
          stdout: decoder.decode(out.stdout),
          stderr: decoder.decode(out.stderr),
        };
      } finally {
        clearTimeout(timer);
        await Deno.remove(this.#fixture, { recursive: true }).catch(() => {});
      }
    })();
    return this.#output;
  }

  /** Cleans up the shared directory. */
  async dispose(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* gone */ }
    await this.finished();
    await Deno.remove(this.shared, { recursive: true }).catch(() => {});
  }
}

/** Runs a sandbox to completion. */
export async function runSandbox(
  options: SandboxOptions,
  ms = 30000,
): Promise<
  {
    code: number;
    stdout: string;
    stderr: string;
    shared: Record<string, string>;
  }
> {
  const box = await Sandbox.start(options);
  try {
    const out = await box.finished(ms);
    const shared: Record<string, string> = {};
    for await (const e of Deno.readDir(box.shared)) {
      shared[e.name] = await box.read(e.name);
    }
    return { code: out.code, stdout: out.stdout, stderr: out.stderr, shared };
  } finally {
    await box.dispose();
  }
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Zombies among the descendants of host pid `root`, from the host's /proc. */
export async function zombiesUnder(root: number): Promise<number[]> {
  const parent = new Map<number, number>();
  const state = new Map<number, string>();
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const t = await Deno.readTextFile(`/proc/${e.name}/stat`);
      const rest = t.slice(t.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(e.name), Number(rest[1]));
      state.set(Number(e.name), rest[0]);
    } catch { /* gone */ }
  }
  const out: number[] = [];
  for (const [pid] of parent) {
    let p: number | undefined = pid;
    while (p !== undefined && p > 1 && p !== root) p = parent.get(p);
    if (p === root && pid !== root && state.get(pid) === "Z") out.push(pid);
  }
  return out;
}
