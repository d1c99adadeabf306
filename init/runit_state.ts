/**
 * Reading runit's view of a service, pure: the text of `supervise/stat`
 * that runsv rewrites (stat.new, then rename) on every change.
 *
 * @module
 */

/** The state word runsv writes first: "run", "down" or "finish". */
export type ServiceState = "run" | "down" | "finish" | "unknown";

/** Parses `supervise/stat`, e.g. "run", "down, want up", "run, paused". */
export function parseStat(text: string | undefined): ServiceState {
  if (text === undefined) return "unknown";
  const word = text.trim().split(/[,\s]/, 1)[0];
  return word === "run" || word === "down" || word === "finish"
    ? word
    : "unknown";
}

/** One service as `--status` and the waits see it. */
export interface ServiceView {
  name: string;
  /** A `down` file: runit does not start it at boot. */
  disabled: boolean;
  /** runsv answers on supervise/ok (it is running and supervising). */
  supervised: boolean;
  state: ServiceState;
}

/** Whether a service counts as up: supervised and running. */
export function isUp(s: ServiceView): boolean {
  return s.supervised && s.state === "run";
}

/** Whether a service counts as stopped: not running its `run` any more. */
export function isStopped(s: ServiceView): boolean {
  return !s.supervised || s.state === "down";
}

/**
 * The lines and exit code of `my_init --status`, in the spirit of runit's
 * `sv` (fixed `ok:`/`fail:` prefixes). Disabled services are reported but do
 * not fail the check; any enabled service that is not up does.
 */
export function statusReport(
  services: readonly ServiceView[],
): { lines: string[]; exitCode: number } {
  const lines: string[] = [];
  let failures = 0;
  for (const s of services) {
    const state = s.supervised ? s.state : "not supervised";
    if (s.disabled) {
      lines.push(`ok: ${s.name}: ${state} (disabled)`);
    } else if (isUp(s)) {
      lines.push(`ok: ${s.name}: run`);
    } else {
      failures++;
      lines.push(`fail: ${s.name}: ${state}`);
    }
  }
  return { lines, exitCode: failures === 0 ? 0 : 1 };
}
