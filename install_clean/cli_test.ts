import assert from "node:assert/strict";
import { parseArgs, USAGE } from "./cli.ts";
import { usageErrorText } from "../lib/usage.ts";

Deno.test("parseArgs() takes packages as separate arguments", () => {
  assert.deepEqual(parseArgs(["nginx", "curl"]), {
    kind: "install",
    recommends: false,
    aptArgs: ["nginx", "curl"],
  });
});

Deno.test("parseArgs() removes --install-recommends from apt's arguments", () => {
  assert.deepEqual(parseArgs(["nginx", "--install-recommends", "curl"]), {
    kind: "install",
    recommends: true,
    aptArgs: ["nginx", "curl"],
  });
});

Deno.test("parseArgs() passes other options to apt-get install in place", () => {
  assert.deepEqual(
    parseArgs(["-t", "bookworm-backports", "--reinstall", "foo"]),
    {
      kind: "install",
      recommends: false,
      aptArgs: ["-t", "bookworm-backports", "--reinstall", "foo"],
    },
  );
  assert.deepEqual(parseArgs(["-o", "Acquire::Retries=3", "--", "-weird"]), {
    kind: "install",
    recommends: false,
    aptArgs: ["-o", "Acquire::Retries=3", "--", "-weird"],
  });
});

Deno.test("parseArgs() rejects a command line without a package", () => {
  const missing = { kind: "usage-error", message: "missing package" };
  assert.deepEqual(parseArgs([]), missing);
  assert.deepEqual(parseArgs(["--install-recommends"]), missing);
  // The value of -t is a release, not a package.
  assert.deepEqual(parseArgs(["-t", "bookworm-backports"]), missing);
  assert.deepEqual(
    parseArgs(["--target-release=bookworm-backports", "-q"]),
    missing,
  );
});

Deno.test("parseArgs() rejects an option without its value", () => {
  assert.deepEqual(parseArgs(["nginx", "-t"]), {
    kind: "usage-error",
    message: 'missing value for "-t"',
  });
});

Deno.test("parseArgs() answers --help", () => {
  assert.deepEqual(parseArgs(["--help"]), { kind: "help" });
  assert.deepEqual(parseArgs(["nginx", "--help"]), { kind: "help" });
});

Deno.test("install_clean's usage error names the problem, the usage line and --help", () => {
  assert.equal(
    usageErrorText("install_clean", USAGE, "missing package"),
    "install_clean: fatal: missing package\n" +
      "Usage: install_clean [--install-recommends] [APT-OPTION...] PACKAGE...\n" +
      "Try 'install_clean --help'.\n",
  );
});

Deno.test("USAGE lists the apt-get commands and the exit codes", () => {
  for (
    const text of [
      "apt-get install -y --no-install-recommends",
      "apt-get autoremove -y",
      "DEBIAN_FRONTEND=noninteractive",
      "Exit status: 0 on success",
    ]
  ) assert.ok(USAGE.includes(text), text);
});
