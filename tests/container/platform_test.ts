/**
 * The image runs on the platform it was built for (CONTAINER_PLATFORM, set
 * by run.sh: the host's, or linux/arm64 under QEMU's emulation): the
 * container's machine and the image's Deno runtime are that platform's, and
 * the runtime starts there. Guards the arm64 suite against testing the host's
 * image, and the host's against an image with another platform's runtime.
 */
import assert from "node:assert/strict";
import { IMAGE, runToEnd } from "./_engine.ts";

const PLATFORM = Deno.env.get("CONTAINER_PLATFORM") ??
  (Deno.build.arch === "aarch64" ? "linux/arm64" : "linux/amd64");
/** `uname -m` per platform. */
const MACHINE: Record<string, string> = {
  "linux/amd64": "x86_64",
  "linux/arm64": "aarch64",
};

Deno.test(`platform: the image's machine and Deno runtime are ${PLATFORM}'s, and my_init runs there`, async () => {
  const r = await runToEnd("platform", [
    "--network=none",
    IMAGE,
    "/sbin/my_init",
    "--skip-startup-files",
    "--skip-runit",
    "--",
    "sh",
    "-c",
    // od: the ELF e_machine field (offset 18, 2 bytes) of the runtime.
    'echo "MACHINE=$(uname -m) ELF=$(od -An -tx1 -j18 -N2 /usr/lib/baseimage-deno/deno | tr -d " ")"; /usr/sbin/setuser nobody id -un',
  ]);
  assert.equal(r.code, 0, r.logs);
  const elf = PLATFORM === "linux/arm64" ? "b700" : "3e00";
  assert.match(
    r.logs,
    new RegExp(`^MACHINE=${MACHINE[PLATFORM]} ELF=${elf}$`, "m"),
  );
  assert.match(r.logs, /^nobody$/m);
});
