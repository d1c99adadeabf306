/**
 * The state of one my_init run, shared by its steps: the reaper, the
 * container environment, the children that matter, and whether (and with
 * which signal) a shutdown was asked for.
 *
 * @module
 */

import { exitCodeOf, type ExitStatus } from "../lib/exit_status.ts";
import { SIGNALS } from "../lib/signals.ts";
import type { Options } from "./cli.ts";
import type { Config } from "./config.ts";
import { type Child, describeStatus } from "./children.ts";
import type { StatePaths } from "./privilege.ts";
import { Reaper } from "./reaper.ts";
import * as log from "./log.ts";

/** How runsvdir ended before a shutdown (RunState.runitEnded). */
export interface RunitEnd {
  readonly status: ExitStatus;
  /** The runsv left, when my_init carries on without runsvdir. */
  readonly supervisors?: readonly number[];
}

/** One run of my_init. */
export class RunState {
  /** The only waiter for children in the process. */
  readonly reaper: Reaper = new Reaper((pid, status) =>
    log.debug(
      `Reaped orphan PID ${pid} (${
        describeStatus(status, exitCodeOf(status))
      })`,
    )
  );
  /** The container environment children get (lib/env_bytes.ts strings). */
  env: Map<string, string>;
  /** The main command, while it runs. */
  main?: Child;
  /** The terminal fd the main command was given, to take back after it. */
  mainTty?: number;
  /** runit's daemon, once started. */
  runsvdir?: Child;
  /** runsvdir has exited (reaped): its pid is not to be signalled again. */
  runsvdirExited = false;
  /**
   * Resolves when runsvdir has ended before a shutdown, with what then:
   * its status, and whether my_init carries on with the runsv it left
   * (runit_loss.ts), whose pids it lists. Decided and said once, in
   * services.ts.
   */
  runitEnded?: Promise<RunitEnd>;
  /**
   * Non-root mode (privilege.ts): the uid and gid, whether the image's
   * /etc/container_environment could be read, and the state paths (none
   * when no place was writable). Undefined as root.
   */
  nonRoot?: {
    uid: number;
    gid: number;
    envDirReadable: boolean;
    paths?: StatePaths;
  };
  /** The shutdown has begun; signals that would start it again are ignored. */
  shuttingDown = false;
  /** The signal the main command gets when the shutdown stops it. */
  stopSignal: number = SIGNALS.SIGTERM;
  /**
   * When TERM or INT asked for the shutdown (performance.now()): its
   * deadline counts from there, as the engine's KILL does.
   */
  shutdownRequestedAt?: number;
  #requested!: () => void;
  /** Resolves when TERM or INT asks for the shutdown. */
  readonly shutdownRequested: Promise<"shutdown"> = new Promise((resolve) => {
    this.#requested = () => resolve("shutdown");
  });

  /** Starts a run with the caller's environment. */
  constructor(
    readonly options: Options,
    readonly config: Config,
    env: Map<string, string>,
  ) {
    this.env = env;
  }

  /** Asks for the shutdown; the main command will get `stopSignal`. */
  requestShutdown(stopSignal: number): void {
    this.shutdownRequestedAt ??= performance.now();
    this.shuttingDown = true;
    this.stopSignal = stopSignal;
    this.#requested();
  }
}
