/**
 * Drives a container engine's CLI for the container tests: podman, or the
 * docker CLI (against a Docker daemon or podman's API socket).
 *
 * Set by tests/container/run.sh:
 * - CONTAINER_ENGINE: "podman" (default) or "docker".
 * - CONTAINER_ENGINE_KIND: what the CLI talks to: "podman VERSION",
 *   "Docker Engine VERSION", or "podman VERSION Docker API" (the docker CLI
 *   against podman's API: run.sh's loud fallback when no Engine starts).
 * - IMAGE: the image under test (default baseimage-deno:0.1.0).
 * - TEST_IMAGE: IMAGE plus test services (tests/container/testdata).
 * - SSHD_IMAGE: IMAGE with sshd enabled as the README says.
 * - TEST_PREFIX: prefix of every container name (run.sh removes leftovers).
 * - TIMEOUT_SCALE: multiplies every deadline of engine() and waitFor()
 *   (default 1; tests/container/arm64.sh sets it: under QEMU's emulation
 *   each start of the Deno runtime costs seconds of CPU).
 *
 * Every container is named and removed again, also when a test fails:
 * `docker run --rm` through podman's API reports exit code 0 whatever the
 * command's status, so nothing here uses --rm.
 *
 * @module
 */

/** The engine's CLI: "podman" or "docker". */
export const ENGINE = Deno.env.get("CONTAINER_ENGINE") ?? "podman";
/**
 * What the CLI talks to (CONTAINER_ENGINE_KIND; asked from the CLI when
 * unset): "podman VERSION", "Docker Engine VERSION" or "podman VERSION
 * Docker API".
 */
export const ENGINE_KIND = Deno.env.get("CONTAINER_ENGINE_KIND") ??
  await engineKind();
/** Whether the docker CLI talks to a real Docker Engine (not podman's API). */
export const DOCKER_ENGINE = ENGINE === "docker" &&
  ENGINE_KIND.startsWith("Docker Engine ");

async function engineKind(): Promise<string> {
  const format = ENGINE === "podman"
    ? "{{.Server.Version}}"
    : "{{.Server.Version}} {{range .Server.Components}}{{.Name}};{{end}}";
  const out = await new Deno.Command(ENGINE, {
    args: ["version", "--format", format],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => undefined);
  const [version, components = ""] = new TextDecoder().decode(out?.stdout)
    .trim().split(" ");
  if (ENGINE === "podman") return `podman ${version}`;
  return components.includes("Podman")
    ? `podman ${version} Docker API`
    : `Docker Engine ${version}`;
}

/** The image under test. */
export const IMAGE = Deno.env.get("IMAGE") ?? "baseimage-deno:0.1.0";
/** The image under test plus the services of tests/container/testdata. */
export const TEST_IMAGE = Deno.env.get("TEST_IMAGE") ??
  "baseimage-deno-test:0.1.0";
/** The image under test with sshd enabled. */
export const SSHD_IMAGE = Deno.env.get("SSHD_IMAGE") ??
  "baseimage-deno-test-sshd:0.1.0";
const PREFIX = Deno.env.get("TEST_PREFIX") ?? `bdtest-${Deno.pid}`;
const TIMEOUT_SCALE = Number(Deno.env.get("TIMEOUT_SCALE") ?? "1") || 1;

/** What a finished command left. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

// podman without a running systemd logs these on every run/stop of an image
// with a HEALTHCHECK; they are not the test's business.
const NOISE = /^.*unable to get systemd connection.*\n?/gm;

/**
 * Runs the engine with `args`; never throws on a nonzero exit. Kills the
 * engine process after `timeoutMs` (default 120 s) and says so in stderr.
 */
export async function engine(
  args: string[],
  options: { timeoutMs?: number; stdin?: string } = {},
): Promise<Result> {
  const timeoutMs = (options.timeoutMs ?? 120_000) * TIMEOUT_SCALE;
  const child = new Deno.Command(ENGINE, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  const stderr = dec.decode(out.stderr).replace(NOISE, "");
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: timedOut
      ? `${stderr}\n[timed out after ${timeoutMs} ms: ${ENGINE} ${
        args.join(" ")
      }]`
      : stderr,
  };
}

/**
 * Removes an image this run replaced or built for one test: after the
 * suite, when run.sh gave a list to put it on (RETIRED_IMAGES), else now.
 * Not while other test files build: podman 4.3 fails a build whose cache
 * lookup meets an image being removed ("checking if cached image exists
 * from a previous build: getting top layer info: layer not known", seen in
 * a full run).
 */
export async function retireImage(image: string): Promise<void> {
  const list = Deno.env.get("RETIRED_IMAGES");
  if (list) {
    await Deno.writeTextFile(list, `${image}\n`, { append: true });
  } else {
    await engine(["rmi", image]);
  }
}

/** Like engine(), but throws unless the exit code is 0. */
export async function engineOk(
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<string> {
  const r = await engine(args, options);
  if (r.code !== 0) {
    throw new Error(
      `"${ENGINE} ${
        args.join(" ")
      }" failed with status ${r.code}: ${r.stderr.trim()}`,
    );
  }
  return r.stdout;
}

let counter = 0;

/** A unique container name with the suite's prefix. */
export function uniqueName(label: string): string {
  return `${PREFIX}-${label}-${++counter}`;
}

/** Polls `check` every `intervalMs` until it returns true; false on timeout. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs * TIMEOUT_SCALE;
  while (true) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A running (or finished) named container. */
export class Container {
  constructor(readonly name: string) {}

  /** `exec` a command (argv) in the container. */
  exec(
    argv: string[],
    options: { timeoutMs?: number; user?: string } = {},
  ): Promise<Result> {
    const user = options.user ? ["--user", options.user] : [];
    return engine(["exec", ...user, this.name, ...argv], options);
  }

  /** `exec` a sh script in the container. */
  sh(
    script: string,
    options: { timeoutMs?: number; user?: string } = {},
  ): Promise<Result> {
    return this.exec(["sh", "-c", script], options);
  }

  /** The container's log (stdout and stderr as the engine merged them). */
  async logs(): Promise<string> {
    const r = await engine(["logs", this.name]);
    return r.stdout + r.stderr;
  }

  /** A Go template field of `inspect`. */
  async inspect(format: string): Promise<string> {
    return (await engineOk(["inspect", "--format", format, this.name])).trim();
  }

  /** Waits for the container to exit; returns its exit code. */
  async wait(timeoutMs = 60_000): Promise<number> {
    const out = await engineOk(["wait", this.name], { timeoutMs });
    return Number(out.trim().split("\n").pop());
  }

  /** Waits until `my_init --status` says every enabled service is up. */
  async waitUntilUp(timeoutMs = 30_000): Promise<void> {
    const ok = await waitFor(
      async () => (await this.exec(["/sbin/my_init", "--status"])).code === 0,
      timeoutMs,
      250,
    );
    if (!ok) {
      const status = await this.sh("sv status /etc/service/* 2>&1");
      throw new Error(
        `${this.name}: services not up after ${timeoutMs} ms:\n${status.stdout}\n${await this
          .logs()}`,
      );
    }
  }

  /** Removes the container, running or not. */
  async remove(): Promise<void> {
    // podman rm -f would first wait 10 s for a graceful stop; docker rm -f kills.
    await engine(
      ENGINE === "podman"
        ? ["rm", "-f", "-t", "0", this.name]
        : ["rm", "-f", this.name],
    );
  }
}

/**
 * Starts a detached named container (`run -d ... IMAGE CMD...`), passes it
 * to `fn`, and removes it afterwards whatever happens.
 */
export async function withContainer<T>(
  label: string,
  runArgs: string[],
  fn: (c: Container) => Promise<T>,
): Promise<T> {
  const c = await start(label, runArgs);
  try {
    return await fn(c);
  } finally {
    await c.remove();
  }
}

/** Starts a detached named container; the caller removes it. */
export async function start(
  label: string,
  runArgs: string[],
): Promise<Container> {
  const name = uniqueName(label);
  const r = await engine([
    "run",
    "-d",
    "--name",
    name,
    "--pull=never",
    ...runArgs,
  ]);
  const c = new Container(name);
  if (r.code !== 0) {
    await c.remove();
    throw new Error(
      `"${ENGINE} run" of ${name} failed with status ${r.code}: ${r.stderr.trim()}`,
    );
  }
  return c;
}

/** What a container that ran to its end left. */
export interface Finished {
  code: number;
  logs: string;
}

/**
 * Runs a container to its end (`run -d`, `wait`, `logs`, `rm`): the exit code
 * comes from `wait`, which is right with both engines.
 */
export async function runToEnd(
  label: string,
  runArgs: string[],
  timeoutMs = 60_000,
): Promise<Finished> {
  return await withContainer(label, runArgs, async (c) => {
    const code = await c.wait(timeoutMs);
    return { code, logs: await c.logs() };
  });
}

/** A fresh host directory for bind mounts, removed by the returned function. */
export async function tempDir(): Promise<
  { path: string; cleanup: () => Promise<void> }
> {
  const path = await Deno.makeTempDir({ prefix: "bdtest-" });
  await Deno.chmod(path, 0o777);
  return {
    path,
    cleanup: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** The lines of a marker file written by the test services, without timestamps. */
export async function readEvents(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((l) => l.trim() !== "");
}

/** The test image's demo container, up, with its event log. */
export interface Demo {
  c: Container;
  /** The events the test image's scripts and demo service wrote, in order. */
  events(): Promise<string[]>;
}

/**
 * Starts TEST_IMAGE (its startup scripts, rc.local and the demo service log
 * their events to a host directory), waits until its services are up and
 * the demo service runs, then passes it to `fn`; removes everything after.
 */
export async function withDemo<T>(
  label: string,
  fn: (demo: Demo) => Promise<T>,
): Promise<T> {
  const markers = await tempDir();
  try {
    return await withContainer(label, [
      "--network=none",
      "-v",
      `${markers.path}:/markers`,
      TEST_IMAGE,
    ], async (c) => {
      const events = () => readEvents(`${markers.path}/events`);
      await c.waitUntilUp();
      if (
        !await waitFor(
          async () => (await events()).includes("demo-svc run"),
          10_000,
        )
      ) {
        throw new Error(`the demo service never ran: ${await events()}`);
      }
      return await fn({ c, events });
    });
  } finally {
    await markers.cleanup();
  }
}

/** Sends `message` through logger(1) and waits for it in /var/log/syslog. */
export async function loggedToSyslog(
  c: Container,
  message: string,
): Promise<boolean> {
  await c.exec(["logger", message]);
  return await waitFor(
    async () =>
      (await c.exec(["grep", "-q", message, "/var/log/syslog"])).code === 0,
    5_000,
  );
}

/**
 * `stop -t 10` (spelled out: through podman's Docker API the default is 0,
 * SIGKILL at once), then the exit code and how long the stop took.
 */
export async function stopTimed(
  c: Container,
): Promise<{ code: number; elapsed: number; stopStatus: Result }> {
  const started = Date.now();
  const stopStatus = await engine(["stop", "-t", "10", c.name], {
    timeoutMs: 30_000,
  });
  const code = await c.wait();
  return { code, elapsed: Date.now() - started, stopStatus };
}

/**
 * Whether a container started without --network gets an IP address: the
 * engine has a default bridge. The Docker Engine image/engine.sh starts has
 * none (--bridge=none: the host's network stays as it is).
 */
export const DEFAULT_BRIDGE = ENGINE === "podman" ||
  (await engine(["network", "inspect", "bridge"])).code === 0;
