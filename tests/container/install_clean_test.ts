/**
 * install_clean inside the image (needs Debian's mirror: --network=host).
 */
import assert from "node:assert/strict";
import { IMAGE, runToEnd, TEST_IMAGE, withContainer } from "./_engine.ts";

Deno.test("install_clean installs a real package and leaves /var/lib/apt/lists empty", async () => {
  const script =
    "install_clean hello >/tmp/install.log 2>&1 || { cat /tmp/install.log; exit 10; }; " +
    "hello; echo LISTS=$(ls -A /var/lib/apt/lists | wc -l) $(ls -A /var/lib/apt/lists); " +
    "echo ARCHIVES=$(ls /var/cache/apt/archives/*.deb 2>/dev/null | wc -l)";
  const r = await runToEnd("install-clean", [
    "--network=host",
    IMAGE,
    "sh",
    "-c",
    script,
  ], 300_000);
  assert.equal(r.code, 0, r.logs);
  assert.match(r.logs, /Hello, world!/);
  assert.match(r.logs, /LISTS=0 *$/m);
  assert.match(r.logs, /ARCHIVES=0/);
});

Deno.test("install_clean of a bogus package fails nonzero", async () => {
  const r = await runToEnd(
    "install-bogus",
    [
      "--network=host",
      IMAGE,
      "/sbin/install_clean",
      "no-such-package-baseimage-deno",
    ],
    300_000,
  );
  assert.notEqual(r.code, 0, r.logs);
});

Deno.test("`RUN install_clean hello` in a derived Dockerfile (the test image) worked", async () => {
  await withContainer("install-clean-built", [
    "--network=none",
    TEST_IMAGE,
    "sleep",
    "30",
  ], async (c) => {
    const r = await c.sh("hello && ls -A /var/lib/apt/lists");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Hello, world!\n");
  });
});
