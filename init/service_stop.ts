/**
 * Which runit control command goes to which service now, while stopping
 * them: a pure decision, re-made on every change runsv reports.
 *
 * Phase "down": one `d` per service. runsv answers every `d` with another
 * TERM, and a second TERM makes some daemons cut their graceful stop short,
 * so `d` is re-sent only to a service that could not take it (no runsv yet:
 * it may be starting right now, phusion #315) or that came back up.
 * Phase "kill" (the grace period is over): `k` to each service still up,
 * `dk` to one that never got its `d`, so that runsv does not restart it.
 *
 * @module
 */

import { isStopped, type ServiceView } from "./runit_state.ts";

/** Where the stop is. */
export type StopPhase = "down" | "kill";

/** What was sent so far (names of services that took the command). */
export interface StopProgress {
  readonly downSent: ReadonlySet<string>;
  readonly killSent: ReadonlySet<string>;
}

/** One control command. */
export interface ServiceCommand {
  name: string;
  chars: "d" | "k" | "dk";
}

/**
 * The commands to send now, and the services whose `d` is to be forgotten
 * (seen down: should it come back up, it gets another).
 */
export function nextStopCommands(
  views: readonly ServiceView[],
  phase: StopPhase,
  progress: StopProgress,
): { send: ServiceCommand[]; forget: string[] } {
  const send: ServiceCommand[] = [];
  const forget: string[] = [];
  for (const v of views) {
    if (phase === "down") {
      if (v.state === "down") {
        if (progress.downSent.has(v.name)) forget.push(v.name);
      } else if (!progress.downSent.has(v.name)) {
        send.push({ name: v.name, chars: "d" });
      }
    } else if (!isStopped(v) && !progress.killSent.has(v.name)) {
      send.push({
        name: v.name,
        chars: progress.downSent.has(v.name) ? "k" : "dk",
      });
    }
  }
  return { send, forget };
}
