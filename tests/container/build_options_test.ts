/**
 * `DISABLE_SYSLOG=1 DISABLE_SSH=1 DISABLE_CRON=1 make image`: an image
 * without the optional services still boots and stops cleanly, with each
 * engine (no test is skipped: a skip would pass for a pass).
 *
 * It is built on Debian 12 (debian:bookworm, or where no registry answers
 * the plain debootstrap localhost/debian:bookworm), while the image under
 * test is built on ubuntu:24.04 (or its stand-in): so every `make test`
 * builds on both kinds of base, and this one has none of Ubuntu's
 * policy-rc.d, docker-* apt settings and user (README, "Building the image
 * yourself").
 */
import assert from "node:assert/strict";
import { ENGINE, IMAGE, runToEnd } from "./_engine.ts";
import { baseOf, baseSettings } from "./_base.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
// The suite's platform (tests/container/run.sh); the minimal image is built
// for it alone, whatever PLATFORMS make passed down (`make release
// PLATFORMS=linux/amd64,linux/arm64` would build it for arm64 too, under
// emulation).
const HOST_ARCH = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
const PLATFORM = Deno.env.get("CONTAINER_PLATFORM") || `linux/${HOST_ARCH}`;
const ARCH = PLATFORM.replace(/^linux\//, "");
const MINIMAL_BASE = Deno.env.get("MINIMAL_BASE_IMAGE") ?? "debian:bookworm";

Deno.test({
  name:
    "build: DISABLE_SYSLOG=1 DISABLE_SSH=1 DISABLE_CRON=1 leaves the services out",
  fn: async () => {
    const [name, version] = IMAGE.split(":");
    const minimal = `${name}-minimal`;
    const build = await new Deno.Command("bash", {
      args: [`${ROOT}image/build.sh`],
      cwd: ROOT,
      env: {
        NAME: minimal,
        VERSION: version,
        ENGINE,
        BASE_IMAGE: MINIMAL_BASE,
        PLATFORMS: PLATFORM,
        DISABLE_SYSLOG: "1",
        DISABLE_SSH: "1",
        DISABLE_CRON: "1",
        CONTEXT_DIR: `${ROOT}build/context-minimal`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assert.equal(
      build.code,
      0,
      dec.decode(build.stdout).slice(-3000) +
        dec.decode(build.stderr).slice(-3000),
    );
    const log = dec.decode(build.stderr);
    // One platform built, the suite's.
    const built = [...log.matchAll(/^build: built \S+ for (\S+) from /gm)];
    assert.deepEqual(built.map((m) => m[1]), [PLATFORM], log.slice(-3000));
    // image/build.sh's tags: another architecture's gets its -ARCH.
    const tag = `${minimal}:${version}${ARCH === HOST_ARCH ? "" : `-${ARCH}`}`;
    // Debian's base: the settings of the base stay the base's here too.
    assert.match(await baseOf(tag), /debian/);
    assert.equal(
      await baseSettings(tag),
      await baseSettings(await baseOf(tag)),
    );
    const r = await runToEnd("minimal", [
      "--network=none",
      tag,
      "/sbin/my_init",
      "--",
      "sh",
      "-c",
      'echo "SERVICES=[$(ls /etc/service)] INIT=[$(ls /etc/my_init.d)] POST=[$(ls /etc/my_init.post_shutdown.d)]"; ' +
      "command -v syslog-ng sshd cron || echo NONE-INSTALLED",
    ]);
    assert.equal(r.code, 0, r.logs);
    assert.match(
      r.logs,
      /^SERVICES=\[\] INIT=\[00_runit_supervise.sh\] POST=\[\]$/m,
    );
    assert.match(r.logs, /^NONE-INSTALLED$/m);
  },
});

/** `image/build.sh --base` for the suite's platform, with `env`. */
async function whichBase(env: Record<string, string>) {
  const out = await new Deno.Command("bash", {
    args: [`${ROOT}image/build.sh`, "--base"],
    cwd: ROOT,
    env: { ENGINE, PLATFORMS: PLATFORM, BASE_IMAGE_FALLBACK: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("build --base: a present base of the suite's platform is taken (docker: as `uname -m` in it says, whatever the image store)", async () => {
  const base = await baseOf(IMAGE);
  const r = await whichBase({ BASE_IMAGE: base });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${PLATFORM} ${base}\n`);
});

Deno.test("build --base: a base neither present nor pullable, without a fallback, fails and says so", async () => {
  const r = await whichBase({
    BASE_IMAGE: "localhost/baseimage-deno-absent:none",
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `base image localhost/baseimage-deno-absent:none is not available for ${PLATFORM} and cannot be pulled`,
    ),
  );
});
