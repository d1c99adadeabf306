import { deepStrictEqual } from "node:assert";
import { stepLabel } from "./fig_container.ts";

Deno.test("stepLabel() drops build args, the shell and content hashes", () => {
  deepStrictEqual(
    stepLabel(
      "|3 DISABLE_CRON=0 DISABLE_SSH=0 DISABLE_SYSLOG=0 /bin/sh -c /bd_build/prepare.sh &&     /bd_build/cleanup.sh",
    ),
    "/bd_build/prepare.sh && /bd_build/cleanup.sh",
  );
  deepStrictEqual(
    stepLabel(
      "/bin/sh -c #(nop) COPY dir:b9ca524487c9fd22c66cfa6eb4a6376a780bccc39748ab34e0d584bdd3ef4c59 in / ",
    ),
    "COPY dir:… in /",
  );
});

Deno.test("stepLabel() shortens a long step to 60 characters", () => {
  const label = stepLabel(`/bin/sh -c ${"x".repeat(100)}`);
  deepStrictEqual([...label].length, 60);
  deepStrictEqual(label.endsWith("…"), true);
});
