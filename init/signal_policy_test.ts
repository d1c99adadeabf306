import assert from "node:assert/strict";
import { SIGNALS } from "../lib/signals.ts";
import {
  decideSignal,
  HANDLED_SIGNAL_NUMBERS,
  HANDLED_SIGNALS,
} from "./signal_policy.ts";

const base = {
  hasMainCommand: true,
  shuttingDown: false,
  rewrites: new Map<number, number>(),
};

Deno.test("decideSignal() starts the shutdown on TERM and INT, keeping the signal", () => {
  assert.deepEqual(decideSignal(15, base), {
    kind: "shutdown",
    stopSignal: 15,
  });
  assert.deepEqual(decideSignal(2, base), { kind: "shutdown", stopSignal: 2 });
  assert.deepEqual(decideSignal(15, { ...base, hasMainCommand: false }), {
    kind: "shutdown",
    stopSignal: 15,
  });
});

Deno.test("decideSignal() ignores a second TERM or INT during the shutdown", () => {
  for (const sig of [2, 15]) {
    assert.equal(
      decideSignal(sig, { ...base, shuttingDown: true }).kind,
      "ignore",
    );
  }
});

Deno.test("decideSignal() forwards HUP, QUIT, USR1, USR2, WINCH, CONT, ALRM, PWR and TSTP to the main command", () => {
  for (
    const name of [
      "SIGHUP",
      "SIGQUIT",
      "SIGUSR1",
      "SIGUSR2",
      "SIGWINCH",
      "SIGCONT",
      "SIGALRM",
      "SIGPWR",
      "SIGTSTP",
    ] as const
  ) {
    const sig = SIGNALS[name];
    assert.deepEqual(decideSignal(sig, base), { kind: "forward", signal: sig });
  }
});

Deno.test("decideSignal() ignores TTIN and TTOU, as tini", () => {
  for (const sig of [21, 22]) {
    assert.equal(decideSignal(sig, base).kind, "ignore");
  }
});

Deno.test("decideSignal() ignores forwards in daemon mode", () => {
  assert.equal(
    decideSignal(1, { ...base, hasMainCommand: false }).kind,
    "ignore",
  );
});

Deno.test("decideSignal() applies --rewrite to stops and forwards", () => {
  const rewrites = new Map([[15, 3], [10, 0], [1, 12], [2, 0]]);
  assert.deepEqual(decideSignal(15, { ...base, rewrites }), {
    kind: "shutdown",
    stopSignal: 3,
  });
  assert.equal(decideSignal(10, { ...base, rewrites }).kind, "ignore");
  assert.deepEqual(decideSignal(1, { ...base, rewrites }), {
    kind: "forward",
    signal: 12,
  });
  // A stop cannot be dropped: it still stops, with the signal received.
  assert.deepEqual(decideSignal(2, { ...base, rewrites }), {
    kind: "shutdown",
    stopSignal: 2,
  });
});

Deno.test("HANDLED_SIGNALS has a decision for every signal, and no fault signal", () => {
  assert.equal(HANDLED_SIGNAL_NUMBERS.length, HANDLED_SIGNALS.length);
  for (const sig of [4, 5, 6, 7, 8, 11, 31]) {
    assert.ok(!HANDLED_SIGNAL_NUMBERS.includes(sig), `${sig}`);
  }
});

Deno.test("decideSignal() says why it ignores a signal (the --verbose log line)", () => {
  const reason = (signal: number, state: Partial<typeof base>) => {
    const action = decideSignal(signal, { ...base, ...state });
    return action.kind === "ignore" ? action.reason : action.kind;
  };
  assert.equal(
    reason(SIGNALS.SIGTERM, { shuttingDown: true }),
    "shutdown already in progress",
  );
  assert.equal(
    reason(SIGNALS.SIGTTIN, {}),
    "terminal stop signals are my_init's own",
  );
  assert.equal(
    reason(SIGNALS.SIGHUP, { hasMainCommand: false }),
    "no main command to forward to",
  );
  assert.equal(
    reason(SIGNALS.SIGHUP, { rewrites: new Map([[SIGNALS.SIGHUP, 0]]) }),
    "dropped by --rewrite",
  );
});
