/**
 * What is measured: our tools (when built), the peer inits, and the bare
 * Deno runtime as the floor our tools cannot go below.
 *
 * @module
 */

import { RUN_FLAGS } from "../scripts/launcher.ts";

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
  return [
    `${setup.dist}/my_init`,
    "--skip-startup-files",
    "--skip-runit",
    "--quiet",
    "--",
    ...command,
  ];
}

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
