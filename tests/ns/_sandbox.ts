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

/** What a sandbox gave once its PID 1 exited. */
export interface SandboxOutput {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** The failure of every test that needs dist/my_init when it is not built. */
export const MY_INIT_MISSING = "dist/my_init is missing: run make compile";

/**
 * How long the pipes may stay open once PID 1 is gone. Its exit kills the
 * rest of the namespace before unshare sees it, so they close at once; the
 * bound only keeps a stuck writer from hanging the suite.
 */
const PIPE_GRACE_MS = 5000;

/** How long unshare may take to reap a killed PID 1 before it is killed. */
const UNSHARE_GRACE_MS = 1000;

/** Lines of stderr quoted in a failure. */
const TAIL_LINES = 20;

const decoder = new TextDecoder();

/** Whether `path` exists. */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The last `n` lines of a sandbox's stderr, indented, for an error message.
 * Leaves out what unshare (util-linux 2.38) prints when its child died of
 * SIGKILL, as it does when the harness ends the namespace.
 */
export function tail(stderr: string, n = TAIL_LINES): string {
  const lines = stderr.trimEnd().split("\n").filter((l) =>
    !l.startsWith("unshare: sigprocmask unblock failed")
  );
  if (lines.length === 0 || lines.join("") === "") return "  (empty)";
  return lines.slice(-n).map((l) => `  ${l}`).join("\n");
}

/**
 * Reads a child's pipe as the data comes (a full pipe would block the
 * writer), keeping it so that what came before a kill can be reported.
 */
class Collector {
  readonly #chunks: Uint8Array[] = [];
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Settles when every writer closed the pipe, or after `cancel()`. */
  readonly closed: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    const reader = stream.getReader();
    this.#reader = reader;
    this.closed = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          this.#chunks.push(value);
        }
      } catch { /* cancelled */ }
    })();
  }

  /** The bytes so far, decoded (at once: a character may span chunks). */
  text(): string {
    const all = new Uint8Array(
      this.#chunks.reduce((n, c) => n + c.length, 0),
    );
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    return decoder.decode(all);
  }

  /** Stops reading (the pipe is closed on our side). */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
    await this.closed;
  }
}

/** Resolves true when `p` settles within `ms`, else false. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) =>
    timer = setTimeout(() => r(false), ms)
  );
  try {
    return await Promise.race([p.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A running sandbox. Its PID 1 is unshare's forked child, which unshare
 * takes along when it dies (`--kill-child`); and a namespace's PID 1 takes
 * every process of the namespace along. So killing unshare ends all of it,
 * and with it every writer of the output pipes.
 */
export class Sandbox {
  /** Directory bind-mounted at /shared inside. */
  readonly shared: string;
  readonly #child: Deno.ChildProcess;
  readonly #fixture: string;
  readonly #command: string[];
  readonly #stdout: Collector;
  readonly #stderr: Collector;
  #output?: Promise<SandboxOutput>;

  private constructor(
    child: Deno.ChildProcess,
    shared: string,
    fixture: string,
    command: string[],
  ) {
    this.#child = child;
    this.shared = shared;
    this.#fixture = fixture;
    this.#command = command;
    this.#stdout = new Collector(child.stdout);
    this.#stderr = new Collector(child.stderr);
  }

  /**
   * Starts a sandbox. Throws MY_INIT_MISSING when the command runs
   * dist/my_init and it is not built.
   */
  static async start(options: SandboxOptions = {}): Promise<Sandbox> {
    const command = options.command ?? [MY_INIT, ...(options.args ?? [])];
    if (command.some((a) => a.includes(MY_INIT)) && !exists(MY_INIT)) {
      throw new Error(MY_INIT_MISSING);
    }
    const fixture = await Deno.makeTempDir({ prefix: "ns-fixture-" });
    // cp -a gives the fixture's mode to the sandbox's /: users other than
    // root must be able to run things there.
    await Deno.chmod(fixture, 0o755);
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
    const unshare = [
      "--pid",
      "--fork",
      // SIGKILL to PID 1 when unshare dies, however it dies (util-linux
      // 2.32+): without it, killing unshare leaves the namespace running.
      "--kill-child",
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
    return new Sandbox(child, shared, fixture, command);
  }

  /** The host pid of the sandbox's PID 1 (unshare's forked child). */
  async pid1(): Promise<number> {
    for (let i = 0; i < 500; i++) {
      const pid = this.#pid1Now();
      if (pid !== undefined) return pid;
      await sleep(10);
    }
    throw new Error("sandbox PID 1 did not appear");
  }

  /**
   * PID 1's host pid if it is there now. Only while unshare is still our
   * child: once it is reaped, its pid may belong to another process.
   */
  #pid1Now(): number | undefined {
    const u = this.#child.pid;
    try {
      const stat = Deno.readTextFileSync(`/proc/${u}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== Deno.pid) return undefined;
      const text = Deno.readTextFileSync(`/proc/${u}/task/${u}/children`);
      const pid = parseInt(text.trim().split(" ")[0], 10);
      return Number.isNaN(pid) ? undefined : pid;
    } catch {
      return undefined;
    }
  }

  /**
   * Ends the whole namespace: SIGKILL to its PID 1, which takes every other
   * process of the namespace along, and which unshare then reaps (killed
   * together, PID 1 would be left a zombie for the host's init). Then
   * SIGKILL to unshare if it is still there after UNSHARE_GRACE_MS, or at
   * once when PID 1 cannot be found: --kill-child ends PID 1 then.
   */
  async #killNamespace(): Promise<void> {
    const pid = this.#pid1Now();
    if (pid !== undefined) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
      if (await within(this.#child.status, UNSHARE_GRACE_MS)) return;
    }
    try {
      this.#child.kill("SIGKILL");
    } catch { /* gone */ }
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

  /** Output so far (all of it once PID 1 exited). */
  partial(): { stdout: string; stderr: string } {
    return { stdout: this.#stdout.text(), stderr: this.#stderr.text() };
  }

  /**
   * Waits for PID 1 to exit; its exit code and output. After `ms`, kills
   * the namespace and rejects with the timeout and the last stderr lines.
   * The first call's `ms` holds for every later call.
   */
  finished(ms = 30000): Promise<SandboxOutput> {
    if (!this.#output) {
      this.#output = this.#finish(ms);
      // Handled here too: a test that meets a timeout while awaiting
      // something else must fail, not abort the module with an unhandled
      // rejection. Whoever awaits this promise still gets the error.
      this.#output.catch(() => {});
    }
    return this.#output;
  }

  async #finish(ms: number): Promise<SandboxOutput> {
    let killed: Promise<void> | undefined;
    const timer = setTimeout(() => killed = this.#killNamespace(), ms);
    try {
      const status = await this.#child.status;
      clearTimeout(timer);
      await killed;
      const timedOut = killed !== undefined;
      const pipes = Promise.all([this.#stdout.closed, this.#stderr.closed]);
      const closed = await within(pipes, PIPE_GRACE_MS);
      if (!closed) {
        await this.#stdout.cancel();
        await this.#stderr.cancel();
      }
      const stderr = this.#stderr.text();
      const what = `Sandbox PID 1 "${this.#command.join(" ")}"`;
      if (timedOut) {
        throw new Error(
          `${what} did not exit within ${ms} ms: killed its namespace; ` +
            `last lines of its stderr:\n${tail(stderr)}`,
        );
      }
      if (!closed) {
        throw new Error(
          `${what} exited but its output stayed open ${PIPE_GRACE_MS} ms ` +
            `more; last lines of its stderr:\n${tail(stderr)}`,
        );
      }
      return {
        code: status.code,
        signal: status.signal,
        stdout: this.#stdout.text(),
        stderr,
      };
    } finally {
      clearTimeout(timer);
      await Deno.remove(this.#fixture, { recursive: true }).catch(() => {});
    }
  }

  /** Ends the namespace if still running, and cleans up. Never throws. */
  async dispose(): Promise<void> {
    await this.#killNamespace();
    await this.finished().catch(() => {});
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
