/**
 * What is measured: our tools (when built), the peer inits, phusion's
 * Python my_init and setuser (the tools our users compare with), and the
 * bare Deno runtime as the floor our tools cannot go below.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { RUN_FLAGS } from "../scripts/launcher.ts";

/**
 * Where phusion's unmodified my_init and setuser are: `PHUSION_DIR`, else
 * `../shared/anchors/phusion` beside the repository. They are run, never
 * copied into the project.
 */
export const PHUSION_DIR = Deno.env.get("PHUSION_DIR") ||
  resolve(
    dirname(new URL(import.meta.url).pathname),
    "../../shared/anchors/phusion",
  );

/** The interpreter phusion's tools run on (their shebang: Debian's python3). */
export const PHUSION_PYTHON = "/usr/bin/python3";

/** The row name of phusion's my_init (or setuser) in every figure. */
export const PHUSION = "phusion (Python)";

/** The peer inits, by the name of their executable. */
export const PEERS = ["tini", "dumb-init", "catatonit"] as const;

/** A peer init. */
export type Peer = typeof PEERS[number];

/** Where things are for one harness run. */
export interface Setup {
  /** dist/ when `dist/my_init --version` works, else undefined. */
  dist?: string;
  /** dist/setuser when `dist/setuser --help` works, else undefined. */
  setuser?: string;
  /** The Deno runtime our launchers use (dist/lib/deno, else the repo's). */
  deno: string;
  /** Real path of `deno`: what /proc/PID/exe shows for ours and the floor. */
  denoExe: string;
  /** DENO_DIR of our launchers (dist/lib/cache), also used by the floor. */
  cache: string;
  /** Temporary root of the run (removed at the end). */
  tmp: string;
  /** A JavaScript file that does nothing. */
  emptyJs: string;
  /** A JavaScript file that waits 5 s. */
  waitJs: string;
  /** phusion's tools, when PHUSION_DIR has them and python3 runs. */
  phusion?: Phusion;
}

/** phusion's my_init and setuser, run with `python3 -u`. */
export interface Phusion {
  myInit: string;
  setuser: string;
  /** Real path of the interpreter: what /proc/PID/exe shows for PID 1. */
  exe: string;
}

/** Why phusion's rows are empty, for their cells. */
export function phusionMissing(): string {
  return `not available (no ${PHUSION_DIR}/my_init or ${PHUSION_PYTHON})`;
}

/** `python3 -u PHUSION_DIR/TOOL`: how phusion's image runs it (its shebang). */
export function phusionArgv(
  setup: Setup,
  tool: "my_init" | "setuser",
  args: readonly string[],
): string[] | undefined {
  const p = setup.phusion;
  if (!p) return undefined;
  return [
    PHUSION_PYTHON,
    "-u",
    tool === "my_init" ? p.myInit : p.setuser,
    ...args,
  ];
}

/** phusion's my_init in one-shot mode, with the same flags as ours. */
export function phusionOneShot(
  setup: Setup,
  command: readonly string[],
): string[] | undefined {
  return phusionArgv(setup, "my_init", [...ONE_SHOT_FLAGS, "--", ...command]);
}

/** `peer CMD...`: the peer's one-shot invocation. */
export function peerArgv(peer: Peer, command: readonly string[]): string[] {
  switch (peer) {
    case "tini":
      return ["tini", "--", ...command];
    case "dumb-init":
      return ["dumb-init", ...command];
    case "catatonit":
      return ["catatonit", "--", ...command];
  }
}

/**
 * Our my_init in one-shot mode. --skip-runit: without it my_init also
 * boots runit before the command, which no peer does.
 */
export function oursOneShot(
  setup: Setup,
  command: readonly string[],
): string[] | undefined {
  if (!setup.dist) return undefined;
  return [`${setup.dist}/my_init`, ...ONE_SHOT_FLAGS, "--", ...command];
}

/** The flags of one-shot mode, ours and phusion's alike. */
export const ONE_SHOT_FLAGS = [
  "--skip-startup-files",
  "--skip-runit",
  "--quiet",
] as const;

/** The bare runtime running `script` with exactly our launcher's flags. */
export function floorArgv(
  setup: Setup,
  script: string,
  v8Flags: readonly string[] = [],
): string[] {
  return [setup.deno, ...RUN_FLAGS, ...v8FlagArgs(v8Flags), script];
}

/** `--v8-flags=a,b` or nothing. */
export function v8FlagArgs(v8Flags: readonly string[]): string[] {
  return v8Flags.length ? [`--v8-flags=${v8Flags.join(",")}`] : [];
}

/**
 * What our launcher runs, without its sh, plus `extra` deno flags: for
 * measuring runtime flags without changing the launcher.
 */
export function oursDirect(
  setup: Setup,
  tool: "my_init" | "setuser",
  extra: readonly string[],
  args: readonly string[],
): string[] | undefined {
  if (!setup.dist) return undefined;
  return [
    setup.deno,
    ...RUN_FLAGS,
    ...extra,
    `${setup.dist}/lib/${tool}.js`,
    ...args,
  ];
}

/** The environment every measured command gets: the floor's DENO_DIR. */
export function benchEnv(setup: Setup): Record<string, string> {
  return { DENO_DIR: setup.cache };
}

/** Real path of the executable `name` found on PATH (`name` itself if not found). */
export function which(name: string): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      return Deno.realPathSync(`${dir || "."}/${name}`);
    } catch { /* not here */ }
  }
  return name;
}
