import assert from "node:assert/strict";
import {
  applyPatches,
  LAUNCHER_ANCHOR,
  parseMarks,
  PATCHES,
  patchLauncher,
  phaseTable,
} from "./_profile_marks.ts";
import { launcherScript } from "../scripts/launcher.ts";

const root = new URL("../", import.meta.url);

Deno.test("every profile anchor is found once in today's sources", () => {
  for (const file of new Set(PATCHES.map((p) => p.file))) {
    const text = Deno.readTextFileSync(new URL(file, root));
    const patched = applyPatches(file, text);
    const marks = PATCHES.filter((p) => p.file === file).length;
    assert.ok(patched.length > text.length, file);
    assert.ok(patched.includes("_mark.ts"), `${file}: ${marks} patches`);
  }
});

Deno.test("applyPatches() refuses an anchor that is missing or repeated", () => {
  const patch = { file: "f.ts", anchor: "x();\n", with: "y();\n" };
  assert.throws(() => applyPatches("f.ts", "z();\n", [patch]), /exactly once/);
  assert.throws(
    () => applyPatches("f.ts", "x();\nx();\n", [patch]),
    /exactly once/,
  );
  assert.equal(applyPatches("f.ts", "a;\nx();\n", [patch]), "a;\ny();\n");
  assert.equal(applyPatches("g.ts", "x();\n", [patch]), "x();\n");
});

Deno.test("patchLauncher() adds the hand-over line before the final exec, verbatim", () => {
  const text = launcherScript("my_init", {
    command: ["/lib/deno", "run", "/lib/my_init.js"],
    cache: "/lib/cache",
  });
  assert.ok(text.includes(LAUNCHER_ANCHOR));
  const patched = patchLauncher(text);
  const lines = patched.split("\n");
  const at = lines.indexOf('echo "LAUNCH $EPOCHREALTIME" >&2');
  assert.equal(lines[at - 1], "IFS=$'\\n'");
  assert.match(lines[at + 1], /exec \/usr\/bin\/env -i/);
  assert.equal(patched.replace('echo "LAUNCH $EPOCHREALTIME" >&2\n', ""), text);
});

Deno.test("parseMarks() reads START/LAUNCH (seconds) and MARKS (ms)", () => {
  const m = parseMarks(
    "noise\nSTART 1700000000.250000\nLAUNCH 1700000000.260000\n" +
      "MARKS origin 1700000000300.5;js-first 1700000000303\n",
  );
  assert.equal(m.get("start"), 1700000000250);
  assert.equal(Math.round(m.get("launch")!), 1700000000260);
  assert.equal(m.get("origin"), 1700000000300.5);
  assert.equal(m.get("js-first"), 1700000000303);
});

Deno.test("phaseTable() gives medians, shares and the total; a missing mark throws", () => {
  const run = (o: number) =>
    new Map([["start", 0], ["origin", o], ["end", 10]]);
  const rows = phaseTable([run(2), run(4), run(6)], [
    { label: "a", from: "start", to: "origin" },
  ]);
  assert.equal(rows[0].stats.median, 4);
  assert.equal(rows[0].share, 0.4);
  assert.deepEqual(rows[1].label, "total");
  assert.throws(
    () => phaseTable([run(1)], [{ label: "b", from: "start", to: "nope" }]),
    /no mark "nope"/,
  );
});
