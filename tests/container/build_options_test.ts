/**
 * `DISABLE_SYSLOG=1 DISABLE_SSH=1 DISABLE_CRON=1 make image`: an image
 * without the optional services still boots and stops cleanly, with each
 * engine (no test is skipped: a skip would pass for a pass).
 */
import assert from "node:assert/strict";
import { ENGINE, IMAGE, runToEnd } from "./_engine.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

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
        BASE_IMAGE: Deno.env.get("BASE_IMAGE") ?? "ubuntu:24.04",
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
    const r = await runToEnd("minimal", [
      "--network=none",
      `${minimal}:${version}`,
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
