import assert from "node:assert/strict";
import { afterRunitLoss, LAST_SUPERVISOR_LINE } from "./runit_loss.ts";

Deno.test("afterRunitLoss(): runsvdir killed by a signal, runsv left: my_init carries on and says what is lost", () => {
  assert.deepEqual(afterRunitLoss({ kind: "signaled", signal: 9 }, 40, 3), {
    kind: "carry-on",
    line: "The runit daemon (PID 40) was killed by SIGKILL; its runsv go on " +
      "supervising the services, but until the container restarts a runsv " +
      "that ends is not started again, and a service added to or removed " +
      "from /etc/service is not seen",
  });
  const segv = afterRunitLoss({ kind: "signaled", signal: 11 }, 7, 1);
  assert.equal(segv.kind, "carry-on");
  assert.match(
    segv.kind === "carry-on" ? segv.line : "",
    /PID 7\) was killed by SIGSEGV;/,
  );
});

Deno.test("afterRunitLoss(): killed with no runsv left, nothing is supervised: the container ends", () => {
  assert.deepEqual(afterRunitLoss({ kind: "signaled", signal: 9 }, 40, 0), {
    kind: "end",
  });
});

Deno.test("afterRunitLoss(): runsvdir that exits by itself ends the container, whatever its code", () => {
  for (const code of [0, 1, 111]) {
    assert.deepEqual(afterRunitLoss({ kind: "exited", code }, 40, 3), {
      kind: "end",
    });
  }
  assert.deepEqual(afterRunitLoss({ kind: "other", raw: 0x137f }, 40, 3), {
    kind: "end",
  });
});

Deno.test("LAST_SUPERVISOR_LINE says that nothing is supervised any more", () => {
  assert.equal(
    LAST_SUPERVISOR_LINE,
    "Every runsv has ended since the runit daemon was killed: nothing is " +
      "supervised any more; stopping",
  );
});
