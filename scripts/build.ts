/**
 * `make compile`: builds dist/my_init, dist/setuser and dist/install_clean,
 * and dist/rootfs/ (the same tools laid out for the image).
 *
 * Two ways, one CLI:
 * - compile: `deno compile` into self-contained executables (dist/lib/NAME).
 *   It needs a denort runtime base, which Deno downloads; we use it only
 *   when one is at hand (DENORT_BIN) or when asked with --mode=compile.
 * - bundle (offline, what CI tests): `deno bundle` per tool, run on one
 *   shared runtime (dist/lib/deno).
 *
 * Either way dist/NAME is the sh launcher of scripts/launcher.ts, which
 * blocks every signal and cleans the runtime's environment before the
 * runtime starts.
 *
 * The image always takes the bundle layout: one runtime copy for all three
 * tools instead of three (each compiled executable embeds its own).
 *
 * Usage: deno run -A scripts/build.ts [--mode=auto|compile|bundle] [--out=dist]
 *        [--only=my_init,setuser]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
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
 * off its resident memory at no measured start-up cost (bench/fig_flags.ts).
 */
export const TOOL_FLAGS: Readonly<Record<string, readonly string[]>> = {
  my_init: ["--v8-flags=--lite-mode"],
};

/** Where the image keeps the runtime and bundles. */
export const IMAGE_LIB = "/usr/lib/baseimage-deno";

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

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      mode: { type: "string", default: "auto" },
      out: { type: "string", default: "dist" },
      only: { type: "string" },
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

  // The image layout: one runtime, three bundles, launchers in /usr/sbin
  // (on merged-/usr bases /sbin is a link to it; the Dockerfile adds the
  // /sbin names where it is not).
  const root = `${out}/rootfs`;
  const imageLib = `${root}${IMAGE_LIB}`;
  await Deno.mkdir(`${imageLib}/cache`, { recursive: true });
  await Deno.mkdir(`${root}/usr/sbin`, { recursive: true });
  await linkOrCopy(`${out}/lib/deno`, `${imageLib}/deno`);
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
  console.error(
    `build: ${mode} -> ${out}/{${Object.keys(tools).join(",")}} and ${root}`,
  );
}

if (import.meta.main) await main();
