/**
 * `make compile`: builds dist/my_init, dist/setuser and dist/install_clean,
 * and dist/rootfs/ (the same tools laid out for the image).
 *
 * Two ways, one CLI:
 * - compile: `deno compile` into self-contained executables (dist/lib/NAME).
 *   It needs a denort runtime base, which Deno downloads; we use it only
 *   when one is at hand (DENORT_BIN) or when asked with --mode=compile.
 * - bundle (what CI tests): `deno bundle` per tool, run on one shared
 *   runtime (dist/lib/deno). It needs no runtime download; the one npm
 *   package bundled in (@pkgjs/parseargs, pinned in deno.json) comes from
 *   the npm registry into the runtime's cache the first time.
 *
 * Either way dist/NAME is the sh launcher of scripts/launcher.ts, which
 * blocks every signal and cleans the runtime's environment before the
 * runtime starts.
 *
 * The image always takes the bundle layout: one runtime copy for all three
 * tools instead of three (each compiled executable embeds its own).
 *
 * The bundles and launchers are architecture-independent; only the runtime
 * is not. The host's image layout is dist/rootfs/ with the runtime that
 * runs this script. `--platform=linux/arm64` (another architecture) lays
 * out dist/rootfs-arm64/ from the bundles of a previous build, with that
 * platform's runtime: npm's package of it (@deno/linux-arm64-glibc, one of
 * the `deno` package's optional dependencies) at the version package.json
 * pins, fetched once with `npm pack` into build/cache/.
 *
 * Usage: deno run -A scripts/build.ts [--mode=auto|compile|bundle] [--out=dist]
 *        [--only=my_init,setuser]
 *        deno run -A scripts/build.ts --platform=linux/arm64 [--out=dist]
 *        [--cache=build/cache]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { basename, resolve } from "node:path";
import { launcherScript, RUN_FLAGS } from "./launcher.ts";

/** The tools and their entry files. */
export const TOOLS = {
  my_init: "init/main.ts",
  setuser: "setuser/main.ts",
  install_clean: "install_clean/main.ts",
} as const;

/**
 * Runtime flags per tool. PID 1 lives as long as the container and does
 * little computing: V8's lite mode (no optimizing compiler) takes ~3.4 MB
 * off its resident memory at no measured start-up cost (bench/fig_flags.ts);
 * `--expose-gc` lets its event loop collect garbage under churn
 * (init/gc_policy.ts).
 */
export const TOOL_FLAGS: Readonly<Record<string, readonly string[]>> = {
  my_init: ["--v8-flags=--lite-mode,--expose-gc"],
};

/** Where the image keeps the runtime and bundles. */
export const IMAGE_LIB = "/usr/lib/baseimage-deno";

/**
 * Per container platform: npm's package of the Deno runtime (the `deno`
 * package's optional dependencies name them) and the ELF e_machine of its
 * executable, checked so that a wrong download never reaches an image.
 */
export const PLATFORMS = {
  "linux/amd64": { npm: "@deno/linux-x64-glibc", elfMachine: 0x3e },
  "linux/arm64": { npm: "@deno/linux-arm64-glibc", elfMachine: 0xb7 },
} as const;

/** A platform the image is built for. */
export type Platform = keyof typeof PLATFORMS;

/** The platform of the runtime running this script. */
export function hostPlatform(): Platform {
  return Deno.build.arch === "aarch64" ? "linux/arm64" : "linux/amd64";
}

/** Checks that `name` is a platform we build; throws otherwise. */
export function parsePlatform(name: string): Platform {
  if (!Object.hasOwn(PLATFORMS, name)) {
    throw new Error(
      `Unknown platform "${name}" (${Object.keys(PLATFORMS).join(", ")})`,
    );
  }
  return name as Platform;
}

/**
 * The image layout's directory for `platform`: `OUT/rootfs` for the host's
 * (as it always was), `OUT/rootfs-ARCH` for another.
 */
export function rootfsDir(
  out: string,
  platform: Platform,
  host: Platform = hostPlatform(),
): string {
  return platform === host
    ? `${out}/rootfs`
    : `${out}/rootfs-${platform.slice("linux/".length)}`;
}

/**
 * The runtime version package.json pins (devDependencies.deno). Exact
 * versions only: the runtime of another platform must be the very release
 * that made the bundles.
 */
export function pinnedDenoVersion(packageJson: unknown): string {
  const version = (packageJson as { devDependencies?: { deno?: unknown } })
    ?.devDependencies?.deno;
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(
      `package.json pins no exact deno version (devDependencies.deno is "${version}")`,
    );
  }
  return version;
}

/** The ELF e_machine of an executable's first bytes; undefined if not ELF. */
export function elfMachine(header: Uint8Array): number | undefined {
  const isElf = header.length >= 20 && header[0] === 0x7f &&
    header[1] === 0x45 && header[2] === 0x4c && header[3] === 0x46;
  // e_machine: a 16-bit little-endian field at offset 18 (ELFDATA2LSB).
  return isElf ? header[18] | (header[19] << 8) : undefined;
}

/**
 * The Deno runtime executable for `platform`: this one for the host's; for
 * another, npm's package at the pinned version, fetched once into
 * `cache/deno-VERSION-ARCH/deno` (`npm pack`: no install, no scripts).
 */
async function runtimeFor(platform: Platform, cache: string): Promise<string> {
  if (platform === hostPlatform()) return Deno.execPath();
  const version = pinnedDenoVersion(JSON.parse(
    await Deno.readTextFile(new URL("../package.json", import.meta.url)),
  ));
  const { npm, elfMachine: machine } = PLATFORMS[platform];
  const dir = `${cache}/deno-${version}-${platform.slice("linux/".length)}`;
  const exe = `${dir}/deno`;
  if (!await exists(exe)) {
    await Deno.mkdir(cache, { recursive: true });
    const tmp = await Deno.makeTempDir({ dir: cache, prefix: "npm-pack." });
    try {
      console.error(`build: fetching ${npm}@${version} with npm pack...`);
      const packed = await output("npm", [
        "pack",
        "--json",
        "--pack-destination",
        tmp,
        `${npm}@${version}`,
      ]);
      const tarball = `${tmp}/${
        basename(JSON.parse(packed)[0].filename as string)
      }`;
      await run("tar", ["-xzf", tarball, "-C", tmp]);
      await Deno.chmod(`${tmp}/package/deno`, 0o755);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await Deno.rename(`${tmp}/package`, dir);
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  }
  const file = await Deno.open(exe);
  const header = new Uint8Array(20);
  await file.read(header);
  file.close();
  if (elfMachine(header) !== machine) {
    throw new Error(
      `${exe} is not a ${platform} executable (ELF machine ${
        elfMachine(header)
      }); remove ${dir} and retry`,
    );
  }
  return exe;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function run(cmd: string, args: string[], env?: Record<string, string>) {
  const { code } = await new Deno.Command(cmd, {
    args,
    env,
    stdout: "inherit",
    stderr: "inherit",
  })
    .output();
  if (code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed with status ${code}`);
  }
}

/** Runs `cmd` and returns its stdout; throws on a nonzero exit. */
async function output(cmd: string, args: string[]): Promise<string> {
  const { code, stdout } = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed with status ${code}`);
  }
  return new TextDecoder().decode(stdout);
}

async function linkOrCopy(from: string, to: string) {
  await Deno.remove(to).catch(() => {});
  try {
    await Deno.link(from, to);
  } catch {
    await Deno.copyFile(from, to);
  }
  await Deno.chmod(to, 0o755);
}

/**
 * A symlink `lib/NAME -> deno` that launchers exec: the kernel names the
 * process after the path it was given, so `ps` and `top` show "my_init"
 * for PID 1 instead of "deno", and it is still one runtime on disk.
 */
async function linkRuntime(lib: string, name: string) {
  await Deno.remove(`${lib}/${name}`).catch(() => {});
  await Deno.symlink("deno", `${lib}/${name}`);
}

/** `deno run` of a tool's bundle in `lib`, through the link named after it. */
function runCommand(lib: string, name: string): string[] {
  return [
    `${lib}/${name}`,
    ...RUN_FLAGS,
    ...(TOOL_FLAGS[name] ?? []),
    `${lib}/${name}.js`,
  ];
}

async function writeExecutable(path: string, text: string) {
  await Deno.writeTextFile(`${path}.new`, text);
  await Deno.chmod(`${path}.new`, 0o755);
  await Deno.rename(`${path}.new`, path);
}

async function bundleAll(out: string, tools: Record<string, string>) {
  const lib = `${out}/lib`;
  await Deno.mkdir(`${lib}/cache`, { recursive: true });
  for (const [name, entry] of Object.entries(tools)) {
    await run(Deno.execPath(), [
      "bundle",
      "--quiet",
      "-o",
      `${lib}/${name}.js`,
      entry,
    ]);
  }
  await linkOrCopy(Deno.execPath(), `${lib}/deno`);
}

/**
 * The image layout in `root`: one runtime (`runtime`), the bundles of
 * `out/lib`, launchers in /usr/sbin (on merged-/usr bases /sbin is a link
 * to it; the Dockerfile adds the /sbin names where it is not).
 */
async function layoutImage(
  out: string,
  root: string,
  tools: Record<string, string>,
  runtime: string,
) {
  const imageLib = `${root}${IMAGE_LIB}`;
  await Deno.mkdir(`${imageLib}/cache`, { recursive: true });
  await Deno.mkdir(`${root}/usr/sbin`, { recursive: true });
  await linkOrCopy(runtime, `${imageLib}/deno`);
  for (const name of Object.keys(tools)) {
    await Deno.copyFile(`${out}/lib/${name}.js`, `${imageLib}/${name}.js`);
    await linkRuntime(imageLib, name);
    await writeExecutable(
      `${root}/usr/sbin/${name}`,
      launcherScript(name, {
        command: runCommand(IMAGE_LIB, name),
        cache: `${IMAGE_LIB}/cache`,
      }),
    );
  }
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      mode: { type: "string", default: "auto" },
      out: { type: "string", default: "dist" },
      only: { type: "string" },
      platform: { type: "string" },
      cache: { type: "string", default: "build/cache" },
    },
  });
  const out = resolve(values.out);
  const tools = values.only
    ? Object.fromEntries(
      Object.entries(TOOLS).filter(([n]) =>
        values.only!.split(",").includes(n)
      ),
    )
    : TOOLS;
  const platform = parsePlatform(values.platform ?? hostPlatform());
  if (platform !== hostPlatform()) {
    // Another architecture: only its image layout, from the bundles the
    // host's build made (they run on any architecture).
    for (const name of Object.keys(tools)) {
      if (!await exists(`${out}/lib/${name}.js`)) {
        throw new Error(
          `${out}/lib/${name}.js is missing: build for the host first (make compile)`,
        );
      }
    }
    const root = rootfsDir(out, platform);
    await layoutImage(
      out,
      root,
      tools,
      await runtimeFor(platform, resolve(values.cache)),
    );
    console.error(`build: ${platform} image layout -> ${root}`);
    return;
  }
  let mode = values.mode;
  if (mode === "auto") mode = Deno.env.get("DENORT_BIN") ? "compile" : "bundle";
  if (mode !== "compile" && mode !== "bundle") {
    throw new Error(
      `Unknown --mode "${values.mode}" (auto, compile or bundle)`,
    );
  }
  await Deno.mkdir(out, { recursive: true });
  await bundleAll(out, tools);

  for (const [name, entry] of Object.entries(tools)) {
    let command: string[];
    if (mode === "compile") {
      await Deno.remove(`${out}/lib/${name}`).catch(() => {});
      await run(Deno.execPath(), [
        "compile",
        "--quiet",
        "--allow-all",
        "--no-check",
        "--no-config",
        ...(TOOL_FLAGS[name] ?? []),
        "--output",
        `${out}/lib/${name}`,
        entry,
      ]);
      command = [`${out}/lib/${name}`];
    } else {
      await linkRuntime(`${out}/lib`, name);
      command = runCommand(`${out}/lib`, name);
    }
    await writeExecutable(
      `${out}/${name}`,
      launcherScript(name, { command, cache: `${out}/lib/cache` }),
    );
  }

  const root = rootfsDir(out, platform);
  await layoutImage(out, root, tools, `${out}/lib/deno`);
  console.error(
    `build: ${mode} -> ${out}/{${Object.keys(tools).join(",")}} and ${root}`,
  );
}

if (import.meta.main) await main();
