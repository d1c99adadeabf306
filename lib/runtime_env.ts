/**
 * Undoing what the launcher did to the environment.
 *
 * The offline build runs each tool as `deno run BUNDLE` from a small sh
 * launcher. Left alone, the runtime would create `$HOME/.cache/deno` in the
 * user's container (and in every service's HOME); the launcher points
 * DENO_DIR at the tool's own cache instead and records the caller's value in
 * `LAUNCHER_MARK`. Entry files call `restoreCallerEnv()` first, so children
 * and exec'd commands see exactly the environment the caller gave.
 *
 * @module
 */

/** Name of the variable in which the launcher saves the caller's DENO_DIR. */
export const LAUNCHER_MARK = "BASEIMAGE_CALLER_DENO_DIR";

/**
 * The decision, pure: given the marker's value, what DENO_DIR should be.
 * "unset" means the caller had none; "set:VALUE" means the caller had VALUE.
 * Returns undefined for "leave as is" (no launcher, e.g. `deno compile`).
 */
export function callerDenoDir(
  mark: string | undefined,
): { restore: "unset" } | { restore: "set"; value: string } | undefined {
  if (mark === undefined) return undefined;
  if (mark.startsWith("set:")) return { restore: "set", value: mark.slice(4) };
  return { restore: "unset" };
}

/** Restores the caller's DENO_DIR and removes the launcher's marker. */
export function restoreCallerEnv(): void {
  const plan = callerDenoDir(Deno.env.get(LAUNCHER_MARK));
  if (plan === undefined) return;
  Deno.env.delete(LAUNCHER_MARK);
  if (plan.restore === "set") Deno.env.set("DENO_DIR", plan.value);
  else Deno.env.delete("DENO_DIR");
}
