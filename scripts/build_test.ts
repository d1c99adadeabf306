import assert from "node:assert/strict";
import {
  elfMachine,
  parsePlatform,
  pinnedDenoVersion,
  PLATFORMS,
  rootfsDir,
} from "./build.ts";

Deno.test("rootfsDir() keeps dist/rootfs for the host's platform and suffixes another's", () => {
  assert.equal(rootfsDir("dist", "linux/amd64", "linux/amd64"), "dist/rootfs");
  assert.equal(
    rootfsDir("dist", "linux/arm64", "linux/amd64"),
    "dist/rootfs-arm64",
  );
  assert.equal(
    rootfsDir("dist", "linux/amd64", "linux/arm64"),
    "dist/rootfs-amd64",
  );
});

Deno.test("parsePlatform() rejects a platform without a runtime package", () => {
  assert.equal(parsePlatform("linux/arm64"), "linux/arm64");
  assert.throws(() => parsePlatform("linux/riscv64"), /"linux\/riscv64"/);
  assert.throws(() => parsePlatform("arm64"), /Unknown platform/);
});

Deno.test("pinnedDenoVersion() takes package.json's exact pin and nothing vaguer", () => {
  assert.equal(
    pinnedDenoVersion({ devDependencies: { deno: "2.9.6" } }),
    "2.9.6",
  );
  assert.throws(() =>
    pinnedDenoVersion({ devDependencies: { deno: "^2.9.6" } })
  );
  assert.throws(() => pinnedDenoVersion({ dependencies: { deno: "2.9.6" } }));
  assert.throws(() => pinnedDenoVersion(null));
});

Deno.test("the repository's package.json pins the runtime exactly", async () => {
  const json = JSON.parse(
    await Deno.readTextFile(new URL("../package.json", import.meta.url)),
  );
  assert.match(pinnedDenoVersion(json), /^\d+\.\d+\.\d+$/);
});

Deno.test("elfMachine() reads e_machine, and the running runtime is the host platform's", async () => {
  assert.equal(elfMachine(new TextEncoder().encode("#!/bin/sh\n")), undefined);
  const file = await Deno.open(Deno.execPath());
  const header = new Uint8Array(20);
  await file.read(header);
  file.close();
  const host = Deno.build.arch === "aarch64" ? "linux/arm64" : "linux/amd64";
  assert.equal(elfMachine(header), PLATFORMS[host].elfMachine);
});
