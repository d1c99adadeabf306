import assert from "node:assert/strict";
import {
  MARKER_PATH,
  parseMarker,
  runsSameProgram,
  runtimePrefix,
  secondInstanceMessage,
} from "./instance_check.ts";

const entries = (...words: string[]) =>
  words.map((w) => new TextEncoder().encode(w));

const BUNDLE = [
  "/usr/lib/b/my_init",
  "run",
  "--quiet",
  "/usr/lib/b/my_init.js",
];

Deno.test("runtimePrefix() leaves out the caller's arguments", () => {
  assert.deepEqual(runtimePrefix([...BUNDLE, "--", "true"], 2), BUNDLE);
  assert.deepEqual(runtimePrefix(["/usr/lib/b/my_init"], 0), [
    "/usr/lib/b/my_init",
  ]);
  assert.deepEqual(runtimePrefix(["a"], 3), []);
});

Deno.test("runsSameProgram() knows my_init by its runtime, flags and bundle, whatever its arguments", () => {
  const prefix = entries(...BUNDLE);
  assert.ok(runsSameProgram(prefix, entries(...BUNDLE)));
  assert.ok(runsSameProgram(prefix, entries(...BUNDLE, "--skip-runit", "sh")));
  // install_clean as PID 1: the same runtime, another bundle.
  assert.ok(
    !runsSameProgram(
      prefix,
      entries(
        "/usr/lib/b/install_clean",
        "run",
        "--quiet",
        "/usr/lib/b/install_clean.js",
        "x",
      ),
    ),
  );
  assert.ok(!runsSameProgram(prefix, entries("/bin/sh", "-c", "x")));
  assert.ok(!runsSameProgram(prefix, [])); // a zombie's empty command line
  assert.ok(!runsSameProgram([], entries("x")));
});

Deno.test("parseMarker() takes one PID and nothing else", () => {
  assert.equal(parseMarker("42\n"), 42);
  assert.equal(parseMarker(" 7 "), 7);
  for (const bad of ["", "0", "-3", "4x", "1 2", "99999999999"]) {
    assert.equal(parseMarker(bad), undefined, bad);
  }
});

Deno.test("secondInstanceMessage() says who is in charge and what to run instead", () => {
  assert.equal(
    secondInstanceMessage({ pid: 1, via: "pid1" }, ["true"]),
    "my_init is already running in this container as PID 1: a second one " +
      "would run the startup scripts again, rewrite the environment files " +
      "and stop the services of the first. Nothing was done. Run the " +
      "command itself instead (docker exec CONTAINER true), or as another " +
      "user with setuser (docker exec CONTAINER setuser USER true).",
  );
  const marked = secondInstanceMessage({ pid: 7, via: "marker" }, [
    "sh",
    "-c",
    "echo it's",
  ]);
  assert.match(marked, new RegExp(`as PID 7 \\(${MARKER_PATH}\\): `));
  assert.match(
    marked,
    /\(docker exec CONTAINER sh -c 'echo it'\\''s'\), or as another user with setuser \(docker exec CONTAINER setuser USER sh -c 'echo it'\\''s'\)\.$/,
  );
  assert.match(
    secondInstanceMessage({ pid: 1, via: "pid1" }, []),
    /\(docker exec CONTAINER COMMAND\)/,
  );
});
