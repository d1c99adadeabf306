/**
 * Figures 9 and 10: the container as a user feels it, through the engine's
 * CLI (podman, and the docker CLI against a Docker Engine: the host's, or
 * the one image/engine.sh starts; podman's Docker API only as its loud
 * fallback, named so in the rows).
 *
 * 9: `run -d` -> `my_init --status` healthy (polled with `exec`), the
 * default `stop` of the plain image -> exited and its exit code, and
 * `run --rm IMAGE /sbin/my_init -- true` beside the engine's own floor
 * `run --rm IMAGE true`.
 * 10: the image's size, its base's, and what the project adds on top:
 * layers (`image history`), the runtime directory (`du` inside), and the
 * Debian packages it installs (dpkg-query, against the base's).
 *
 * The image is $NAME:$VERSION (as the Makefile names it). phusion's image is
 * measured only when PHUSION_IMAGE names one that the engine has.
 *
 * @module
 */

import { timeCommands, type Timed, timingCell } from "./_hyperfine.ts";
import { poll, sleep } from "./_proc.ts";
import { type Figure, num, type Row, type Target } from "./_report.ts";
import { type Stats, summarize } from "./_stats.ts";
import type { Setup } from "./_subjects.ts";

/** The image under test, named as the Makefile does. */
export const IMAGE = `${Deno.env.get("NAME") || "baseimage-deno"}:${
  Deno.env.get("VERSION") || "0.1.0"
}`;
/** phusion's image (its recipe on the same base), when given. */
export const PHUSION_IMAGE = Deno.env.get("PHUSION_IMAGE") || undefined;
/** Where the image keeps the runtime, the bundles and the runtime's cache. */
export const RUNTIME_DIR = "/usr/lib/baseimage-deno";

/** `run -d` -> healthy target, ms. */
export const HEALTHY_MAX_MS = 500;
/** Default `stop` -> exited target, ms. */
export const STOP_MAX_MS = 300;

/** An engine CLI and the environment it needs (DOCKER_HOST). */
interface Engine {
  name: string;
  cli: "podman" | "docker";
  env: Record<string, string>;
}

/** What one CLI call left, and how long it took. */
interface Call {
  code: number;
  out: string;
  ms: number;
}

/** Containers this run created: removed at the end, also on interrupt. */
const created = new Map<string, Engine>();
let counter = 0;

/** Runs the engine's CLI with `args` (at most `timeoutMs`); never throws. */
async function cli(
  engine: Engine,
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<Call> {
  const t0 = performance.now();
  try {
    const r = await new Deno.Command(engine.cli, {
      args: [...args],
      env: engine.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    const dec = new TextDecoder();
    return {
      code: r.code,
      out: dec.decode(r.stdout).trim() || dec.decode(r.stderr).trim(),
      ms: performance.now() - t0,
    };
  } catch (e) {
    return { code: -1, out: String(e), ms: performance.now() - t0 };
  }
}

/** Removes every container this run created (best effort). */
export async function removeContainers(): Promise<void> {
  for (const [name, engine] of created) {
    await cli(engine, ["rm", "-f", name], 30_000);
    created.delete(name);
  }
}

/** Whether `image` is in the engine's store. */
async function hasImage(engine: Engine, image: string): Promise<boolean> {
  return (await cli(engine, ["image", "inspect", image], 30_000)).code === 0;
}

/** Whether `cmd` is on PATH. */
function onPath(cmd: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => {
    try {
      return Deno.statSync(`${d || "."}/${cmd}`).isFile;
    } catch {
      return false;
    }
  });
}

/** Runs a bash script of the repository (image/engine.sh): code and stdout. */
async function sh(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command("bash", {
    args,
    cwd: new URL("../", import.meta.url).pathname,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return { code: r.code, out: new TextDecoder().decode(r.stdout).trim() };
}

/**
 * The docker CLI's engine: DOCKER_HOST's or the default socket's Docker
 * daemon when one answers, else the Docker Engine image/engine.sh starts
 * (Debian's dockerd on a socket of its own, left running), or, when none can
 * be started, its loud fallback: podman's Docker API, named as such in the
 * figure. Its name says which, with the daemon's version.
 */
async function dockerEngine(): Promise<{ engine?: Engine; why?: string }> {
  if (!onPath("docker")) return { why: "the docker CLI is not installed" };
  const host = await sh(["image/engine.sh", "docker-host"]);
  if (host.code !== 0) return { why: "no Docker daemon could be started" };
  const env: Record<string, string> = host.out ? { DOCKER_HOST: host.out } : {};
  const kind = await sh(["image/engine.sh", "docker-kind"], env);
  if (kind.code !== 0) return { why: "the docker CLI reaches no daemon" };
  return { engine: { name: `docker (${kind.out})`, cli: "docker", env } };
}

/**
 * Copies `image` from podman's store into the docker engine's (`make
 * bench` builds with podman unless a Docker daemon answered): `podman save
 * | docker load`, seconds, then tagged as asked (podman's archive names it
 * localhost/NAME). True only when the Engine's image is then podman's, by
 * id (the same after a real load); false when podman has no such image or
 * the load failed.
 */
async function loadFromPodman(engine: Engine, image: string): Promise<boolean> {
  if (!onPath("podman")) return false;
  const r = await new Deno.Command("bash", {
    args: [
      "-c",
      'set -o pipefail; podman image exists "$1" && loaded=$(podman save "$1" | docker load | sed -n "s/^Loaded image: //p" | tail -n 1) && [ -n "$loaded" ] && { [ "$loaded" = "$1" ] || docker tag "$loaded" "$1"; } && p=$(podman image inspect -f "{{.Id}}" "$1") && d=$(docker image inspect -f "{{.Id}}" "$1") && [ "${p#sha256:}" = "${d#sha256:}" ]',
      "load",
      image,
    ],
    env: engine.env,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).output();
  return r.code === 0 && await hasImage(engine, image);
}

/** The `exec` check of "healthy": ours has `--status`, phusion's has `sv`. */
function healthCheck(image: string): string[] {
  return image === PHUSION_IMAGE
    ? [
      "sh",
      "-c",
      'for s in /etc/service/*; do sv status "$s" | grep -q "^run:" || exit 1; done',
    ]
    : ["/sbin/my_init", "--status"];
}

/** One `run -d` -> healthy -> `stop` cycle. */
interface Cycle {
  /** `run -d` until the CLI returned. */
  runMs?: number;
  healthyMs?: number;
  /** Duration of the exec that first found it healthy: the poll's resolution. */
  lastExecMs?: number;
  stopMs?: number;
  exitCode?: number;
  /** `inspect` of the stopped container: the CLI's own round trip. */
  inspectMs?: number;
  error?: string;
}

async function cycle(engine: Engine, image: string): Promise<Cycle> {
  const name = `bench-${Deno.pid}-${++counter}`;
  created.set(name, engine);
  try {
    const t0 = performance.now();
    const run = await cli(engine, [
      "run",
      "-d",
      "--name",
      name,
      "--network=none",
      image,
    ]);
    if (run.code !== 0) return { error: `run -d failed: ${run.out}` };
    let lastExecMs: number | undefined;
    // Execs back to back: the resolution is one exec.
    const healthyAt = await poll(
      async () => {
        const r = await cli(engine, ["exec", name, ...healthCheck(image)]);
        lastExecMs = r.ms;
        return r.code === 0 ? performance.now() : undefined;
      },
      30_000,
      0,
    );
    if (healthyAt === undefined) return { error: "not healthy in 30 s" };
    // Let the last exec's processes go before the stop is timed.
    await sleep(500);
    // The default timeout spelled out: through podman's Docker API the
    // default is 0 (KILL at once), not Docker's 10 s.
    const s = await cli(engine, ["stop", "-t", "10", name]);
    const stopMs = s.ms;
    if (s.code !== 0) return { error: `stop failed: ${s.out}` };
    const i = await cli(engine, [
      "inspect",
      "--format",
      "{{.State.Status}} {{.State.ExitCode}}",
      name,
    ]);
    const [status, code] = i.out.split(" ");
    return {
      runMs: run.ms,
      healthyMs: healthyAt - t0,
      lastExecMs,
      stopMs,
      exitCode: status === "exited" ? Number(code) : undefined,
      inspectMs: i.ms,
      error: status === "exited" ? undefined : `after stop: ${i.out}`,
    };
  } finally {
    await cli(engine, ["rm", "-f", name], 30_000);
    created.delete(name);
  }
}

const CYCLE_METRICS = [
  { key: "run", label: "run -d returns", unit: "ms", digits: 0 },
  { key: "healthy", label: "run -d -> healthy", unit: "ms", digits: 0 },
  { key: "exec", label: "(last exec)", unit: "ms", digits: 0 },
  { key: "stop", label: "stop -> exited", unit: "ms", digits: 0 },
  { key: "exit", label: "exit code", unit: "count", digits: 0 },
  { key: "oneshot", label: "run --rm my_init -- true", unit: "ms", digits: 0 },
  { key: "floor", label: "run --rm true", unit: "ms", digits: 0 },
  { key: "inspect", label: "CLI round trip", unit: "ms", digits: 0 },
] as const;

function emptyCells(why: string): Record<string, string> {
  return Object.fromEntries(
    CYCLE_METRICS.map((m, i) => [m.key, i === 0 ? why : ""]),
  );
}

/** Measures figure 9 with one engine and one image: a row. */
async function lifecycleRow(
  setup: Setup,
  engine: Engine,
  image: string,
  runs: number,
  notes: string[],
): Promise<Row> {
  const subject = `${engine.name}: ${image}`;
  // Our image, when `make bench` built it with podman, goes to the Docker
  // Engine from podman's store at every run, not only when missing, and
  // nothing else is measured: an older build kept in the Engine's store
  // would be (the container suite ran one two hours old on a reused
  // machine).
  const fromPodman = engine.cli === "docker" && image === IMAGE &&
    (await sh(["image/engine.sh", "name"])).out === "podman";
  const present = fromPodman
    ? await loadFromPodman(engine, image)
    : await hasImage(engine, image) ||
      (engine.cli === "docker" && await loadFromPodman(engine, image));
  if (!present) {
    return {
      subject,
      cells: emptyCells(
        fromPodman
          ? "podman's build could not be loaded into the Docker Engine"
          : image === IMAGE
          ? "image not built (make image)"
          : "image not present",
      ),
    };
  }
  const v: Record<string, number[]> = {
    run: [],
    healthy: [],
    exec: [],
    stop: [],
    exit: [],
    inspect: [],
  };
  const errors = new Set<string>();
  for (let i = 0; i < runs; i++) {
    const c = await cycle(engine, image);
    if (c.error) errors.add(c.error);
    if (c.runMs !== undefined) v.run.push(c.runMs);
    if (c.healthyMs !== undefined) v.healthy.push(c.healthyMs);
    if (c.lastExecMs !== undefined) v.exec.push(c.lastExecMs);
    if (c.stopMs !== undefined) v.stop.push(c.stopMs);
    if (c.exitCode !== undefined) v.exit.push(c.exitCode);
    if (c.inspectMs !== undefined) v.inspect.push(c.inspectMs);
  }
  for (const e of errors) notes.push(`${subject}: ${e}`);
  const oneShot: Timed[] = [
    {
      name: "oneshot",
      argv: [
        engine.cli,
        "run",
        "--rm",
        "--network=none",
        image,
        "/sbin/my_init",
        "--",
        "true",
      ],
    },
    {
      name: "floor",
      argv: [engine.cli, "run", "--rm", "--network=none", image, "true"],
    },
  ];
  const t = await timeCommands(oneShot, runs, {
    tmp: setup.tmp,
    env: engine.env,
  });
  const cell = (xs: number[]): Stats | string => summarize(xs) ?? "failed";
  return {
    subject,
    cells: {
      run: cell(v.run),
      healthy: cell(v.healthy),
      exec: cell(v.exec),
      stop: cell(v.stop),
      exit: cell(v.exit),
      oneshot: timingCell(t.get("oneshot")),
      floor: timingCell(t.get("floor")),
      inspect: cell(v.inspect),
    },
  };
}

/** Measures figure 9. */
export async function containerLifecycle(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const notes: string[] = [];
  const rows: Row[] = [];
  const engines: Engine[] = [];
  const images = PHUSION_IMAGE ? [IMAGE, PHUSION_IMAGE] : [IMAGE];
  if (onPath("podman")) {
    engines.push({ name: "podman", cli: "podman", env: {} });
  } else rows.push({ subject: "podman", cells: emptyCells("not installed") });
  const docker = await dockerEngine();
  try {
    if (docker.engine) engines.push(docker.engine);
    else rows.push({ subject: "docker", cells: emptyCells(docker.why!) });
    for (const engine of engines) {
      for (const image of images) {
        rows.push(await lifecycleRow(setup, engine, image, runs, notes));
      }
    }
  } finally {
    await removeContainers();
  }
  const fig: Figure = {
    id: "9",
    title:
      "Container: `run -d` -> healthy, default `stop`, one-shot `run --rm`",
    metrics: [...CYCLE_METRICS],
    rows,
    notes: [
      `Image ${IMAGE}, \`--network=none\`. healthy: from invoking \`run -d\` to the end ` +
      "of the first `exec NAME /sbin/my_init --status` that exits 0 (execs back " +
      "to back; \"last exec\" is that exec's own time, the poll's resolution).",
      "stop: the wall time of `stop -t 10 NAME` (both engines' default timeout, " +
      "spelled out: podman's Docker API, the fallback, defaults to 0, a KILL at " +
      "once) 0.5 s after healthy; exit code from `inspect` after it. CLI round " +
      "trip: one `inspect`.",
      "run --rm true: the same image with `true` as PID 1, the engine's own floor.",
      "docker: the row names the daemon and its version. The image is built with " +
      "podman unless a Docker daemon answered; the Docker Engine then gets it by " +
      "`podman save | docker load`.",
      PHUSION_IMAGE
        ? `${PHUSION_IMAGE}: healthy means every \`sv status\` of /etc/service says \`run:\`.`
        : "phusion's image: not measured (PHUSION_IMAGE unset).",
      ...notes,
    ],
  };
  const targets: Target[] = [];
  for (const row of rows.filter((r) => r.subject.endsWith(`: ${IMAGE}`))) {
    const engine = row.subject.slice(0, -IMAGE.length - 2);
    const h = row.cells.healthy, s = row.cells.stop, e = row.cells.exit;
    // Why a cell is empty: "image not built", "failed", ...
    const why = (c: Stats | string) =>
      typeof c === "string" && c ? c : String(row.cells.run);
    targets.push({
      figure: "9",
      target: `${engine}: \`run -d\` -> healthy ≤ ${HEALTHY_MAX_MS / 1000} s`,
      measured: typeof h === "object"
        ? `${num(h.median, 0)} ms (min ${num(h.min, 0)})`
        : `n/a (${why(h)})`,
      pass: typeof h === "object" ? h.median <= HEALTHY_MAX_MS : undefined,
    });
    targets.push({
      figure: "9",
      target: `${engine}: default \`stop\` -> exited ≤ ${
        STOP_MAX_MS / 1000
      } s, exit 0`,
      measured: typeof s === "object" && typeof e === "object"
        ? `${num(s.median, 0)} ms (min ${num(s.min, 0)}), exit ${
          e.min === e.max ? num(e.min, 0) : `${e.min}–${e.max}`
        }`
        : `n/a (${why(typeof s === "string" ? s : e)})`,
      pass: typeof s === "object" && typeof e === "object"
        ? s.median <= STOP_MAX_MS && e.max === 0 && e.min === 0
        : undefined,
    });
  }
  return { figures: [fig], targets };
}

/** Size in bytes of an image, and its base (from the build's label). */
async function imageFacts(
  engine: Engine,
  image: string,
): Promise<{ size: number; base?: string } | undefined> {
  const r = await cli(engine, [
    "image",
    "inspect",
    "--format",
    '{{.Size}}|{{index .Config.Labels "org.opencontainers.image.base.name"}}',
    image,
  ]);
  if (r.code !== 0) return undefined;
  const [size, base] = r.out.split("|");
  const n = Number(size);
  if (!Number.isFinite(n)) return undefined;
  return { size: n, base: base && base !== "<no value>" ? base : undefined };
}

/** `image history` entries, newest first: size in bytes, the step. */
async function history(
  engine: Engine,
  image: string,
): Promise<{ size: number; step: string }[] | undefined> {
  const r = await cli(engine, ["history", "--format", "json", image]);
  if (r.code !== 0) return undefined;
  try {
    const entries = JSON.parse(r.out) as {
      size?: number;
      CreatedBy?: string;
    }[];
    return entries.map((e) => ({
      size: e.size ?? 0,
      step: e.CreatedBy ?? "?",
    }));
  } catch {
    return undefined;
  }
}

/** Installed packages of `image`: name -> Installed-Size in bytes. */
async function packages(
  engine: Engine,
  image: string,
): Promise<Map<string, number> | undefined> {
  const r = await cli(engine, [
    "run",
    "--rm",
    "--network=none",
    "--entrypoint",
    "dpkg-query",
    image,
    "-W",
    "-f",
    "${Package}\\t${Installed-Size}\\n",
  ]);
  if (r.code !== 0) return undefined;
  const out = new Map<string, number>();
  for (const line of r.out.split("\n")) {
    const [name, kb] = line.split("\t");
    if (name) out.set(name, Number(kb || 0) * 1024);
  }
  return out;
}

/**
 * `du` inside the image of the runtime directory and its parts, in bytes
 * (label -> size); the bundles and launchers by their byte count.
 */
async function runtimeParts(
  engine: Engine,
  image: string,
): Promise<[string, number][] | undefined> {
  const d = RUNTIME_DIR;
  const script = [
    `cd ${d} || exit 3`,
    'echo "total $(du -sk . | cut -f1)"',
    'echo "runtime $(du -skL deno | cut -f1)"',
    'echo "cache $(du -sk cache 2>/dev/null | cut -f1)"',
    'echo "bundles $(($(cat ./*.js | wc -c) / 1024))"',
    'echo "launchers $(($(cat /usr/sbin/my_init /usr/sbin/setuser /usr/sbin/install_clean | wc -c) / 1024))"',
  ].join("\n");
  const r = await cli(engine, [
    "run",
    "--rm",
    "--network=none",
    "--entrypoint",
    "sh",
    image,
    "-c",
    script,
  ]);
  if (r.code !== 0) return undefined;
  const label: Record<string, string> = {
    total: `${d} (all of it)`,
    runtime: "- Deno runtime (deno)",
    cache: "- runtime cache, warmed at build (cache/)",
    bundles: "- bundles (my_init.js, setuser.js, install_clean.js)",
    launchers: "launchers (/usr/sbin/my_init, setuser, install_clean)",
  };
  const out: [string, number][] = [];
  for (const line of r.out.split("\n")) {
    const [k, kb] = line.split(" ");
    if (label[k] && kb) out.push([label[k], Number(kb) * 1024]);
  }
  return out;
}

/** A size cell in MB (10^6 bytes, as the engines print). */
function mb(bytes: number): Stats {
  const v = bytes / 1e6;
  return { median: v, min: v, max: v, n: 1 };
}

/** One line of a Dockerfile step, short enough for a table cell. */
export function stepLabel(step: string): string {
  const s = step
    .replace(/^\|\d+ (\S+=\S* )*/, "") // build args: `|3 A=0 B=0 C=0 `
    .replace(/^\/bin\/sh -c (#\(nop\) )?/, "")
    .replace(/\b(dir|file):[0-9a-f]{12,}/g, "$1:…")
    .replace(/\s+/g, " ").trim();
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

/** A size cell: MB, or kB below 0.1 MB (launchers, small layers). */
function sizeCell(bytes: number): Stats | string {
  return bytes < 1e5 ? `${Math.round(bytes / 1e3)} kB` : mb(bytes);
}

/** Measures figure 10. */
export async function imageSize(
  _setup: Setup,
  _runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const engine: Engine = { name: "podman", cli: "podman", env: {} };
  const rows: Row[] = [];
  const notes: string[] = [];
  const row = (subject: string, size: Stats | string) =>
    rows.push({ subject, cells: { size } });
  const ours = onPath("podman") ? await imageFacts(engine, IMAGE) : undefined;
  let phusion: number | undefined;
  if (!ours) {
    row(
      IMAGE,
      onPath("podman") ? "image not built (make image)" : "needs podman",
    );
  } else {
    row(`${IMAGE} (all)`, mb(ours.size));
    const base = ours.base ? await imageFacts(engine, ours.base) : undefined;
    if (!ours.base || !base) {
      row("its base", ours.base ? `${ours.base}: not present` : "unknown");
    } else {
      row(`its base, ${ours.base}`, mb(base.size));
      row("added by the project", mb(ours.size - base.size));
      const mine = await history(engine, IMAGE);
      const theirs = await history(engine, ours.base);
      if (mine && theirs) {
        for (const l of mine.slice(0, mine.length - theirs.length)) {
          if (l.size > 0) {
            const label = stepLabel(l.step).replaceAll("|", "\\|");
            row(`- layer: \`${label}\``, sizeCell(l.size));
          }
        }
      }
      const [p, q] = [
        await packages(engine, IMAGE),
        await packages(engine, ours.base),
      ];
      if (p && q) {
        const added = [...p].filter(([n]) => !q.has(n)).sort((a, b) =>
          b[1] - a[1]
        );
        row(
          `Debian packages added (${added.length}, dpkg Installed-Size)`,
          mb(added.reduce((s, [, b]) => s + b, 0)),
        );
        notes.push(
          "Largest packages added: " + added.slice(0, 12).map(([n, b]) =>
            `${n} ${num(b / 1e6, 1)}`
          ).join(", ") + " (MB).",
        );
      } else notes.push("dpkg-query failed in the image or its base.");
    }
    const parts = await runtimeParts(engine, IMAGE);
    if (parts) {
      for (const [label, bytes] of parts) row(label, sizeCell(bytes));
    } else row(RUNTIME_DIR, "not found in the image");
  }
  if (PHUSION_IMAGE) {
    const f = await imageFacts(engine, PHUSION_IMAGE);
    if (f) phusion = f.size;
    row(`phusion's image ${PHUSION_IMAGE}`, f ? mb(f.size) : "not present");
  } else row("phusion's image", "not measured (PHUSION_IMAGE unset)");
  const fig: Figure = {
    id: "10",
    title: "Image size, and what the project adds on top of its base",
    metrics: [{ key: "size", label: "size", unit: "MB", digits: 1 }],
    rows,
    notes: [
      "MB = 10^6 bytes, as the engines print. Sizes from `podman image inspect` " +
      "(uncompressed); layers from `podman history`; the runtime directory by " +
      "`du` inside the image; packages: those of the image that its base lacks.",
      ...notes,
    ],
  };
  return {
    figures: [fig],
    targets: [{
      figure: "10",
      target: "image size ≤ phusion's recipe on the same base",
      measured: !ours
        ? "n/a (image not built)"
        : phusion !== undefined
        ? `${num(ours.size / 1e6, 1)} vs ${num(phusion / 1e6, 1)} MB`
        : `${num(ours.size / 1e6, 1)} MB; phusion's: ${
          PHUSION_IMAGE
            ? `not present (${PHUSION_IMAGE})`
            : "not measured (PHUSION_IMAGE unset)"
        }`,
      pass: ours && phusion !== undefined ? ours.size <= phusion : undefined,
    }],
  };
}
