/**
 * Startup scripts: /etc/my_init.d/* in byte order (non-executable files
 * skipped), then /etc/rc.local, then runit and the main command; a failing
 * script stops the boot; `--skip-startup-files` and ENV_INIT_DIRECTORY.
 * Non-root mode: my_init_non_root_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runSandbox, script } from "./_sandbox.ts";
import { bash, ignore, logLines, withSandbox } from "./_my_init.ts";

/** A script appending `name` to /shared/order. */
const mark = (name: string) => script(`echo ${name} >> /shared/order`);

const order = (shared: Record<string, string>) =>
  (shared.order ?? "").split("\n").filter((l) => l !== "");

Deno.test({
  name:
    "my_init runs startup scripts in byte order, rc.local last, then the main command",
  ignore,
  async fn() {
    const r = await runSandbox({
      args: ["--skip-runit", "--", "sh", "-c", "echo main >> /shared/order"],
      files: {
        "/etc/my_init.d/A": mark("A"),
        "/etc/my_init.d/2_b": mark("2_b"),
        "/etc/my_init.d/a_lower": mark("a_lower"),
        "/etc/my_init.d/10_a": mark("10_a"),
        "/etc/my_init.d/15_not_executable": {
          text: "#!/bin/sh\necho 15_not_executable >> /shared/order\n",
          mode: 0o644,
        },
        "/etc/rc.local": mark("rc.local"),
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(order(r.shared), [
      "10_a",
      "2_b",
      "A",
      "a_lower",
      "rc.local",
      "main",
    ]);
    // The directory is named once, and each script with its path, as
    // phusion's my_init does.
    const log = logLines(r.stderr);
    assert.equal(
      log.filter((l) => l.startsWith("Running the startup scripts")).join(),
      "Running the startup scripts in /etc/my_init.d...",
      r.stderr,
    );
    assert.ok(log.includes("Running /etc/my_init.d/10_a..."), r.stderr);
    assert.ok(log.includes("Running /etc/rc.local..."), r.stderr);
  },
});

Deno.test({
  name: "my_init skips a non-executable /etc/rc.local",
  ignore,
  async fn() {
    const r = await runSandbox({
      args: ["--skip-runit", "--", "sh", "-c", "echo main >> /shared/order"],
      files: {
        "/etc/my_init.d/10_a": mark("10_a"),
        "/etc/rc.local": {
          text: "#!/bin/sh\necho rc.local >> /shared/order\n",
          mode: 0o644,
        },
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(order(r.shared), ["10_a", "main"]);
  },
});

Deno.test({
  name: "my_init stops the boot at a failing startup script and exits 1",
  ignore,
  async fn() {
    // Daemon mode: had runit started, the service would leave a marker.
    const r = await runSandbox({
      args: [],
      files: {
        "/etc/my_init.d/10_ok": mark("10_ok"),
        "/etc/my_init.d/20_fail": script(
          "echo 20_fail >> /shared/order\nexit 3",
        ),
        "/etc/my_init.d/30_after": mark("30_after"),
        "/etc/rc.local": mark("rc.local"),
        "/etc/service/svc/run": script(
          "touch /shared/service\nexec sleep 1000",
        ),
      },
    });
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(order(r.shared), ["10_ok", "20_fail"]);
    assert.equal(r.shared.service, undefined, "runit was started");
    const log = logLines(r.stderr);
    assert.ok(
      log.some((l) =>
        l.includes("/etc/my_init.d/20_fail") && /status 3\b/.test(l)
      ),
      r.stderr,
    );
    assert.ok(!log.some((l) => l.startsWith("Booting runit")), r.stderr);
  },
});

Deno.test({
  name:
    "my_init reports a startup script killed by a signal and stops the boot",
  ignore,
  async fn() {
    const r = await runSandbox({
      args: ["--skip-runit", "--", "sh", "-c", "echo main >> /shared/order"],
      files: {
        "/etc/my_init.d/10_killed": script("kill -s KILL $$"),
        "/etc/my_init.d/20_after": mark("20_after"),
      },
    });
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(order(r.shared), []);
    assert.ok(
      logLines(r.stderr).some((l) =>
        l.includes("/etc/my_init.d/10_killed") && l.includes("SIGKILL")
      ),
      r.stderr,
    );
  },
});

Deno.test({
  name: "my_init --skip-startup-files runs neither my_init.d nor rc.local",
  ignore,
  async fn() {
    const r = await runSandbox({
      args: [
        "--skip-startup-files",
        "--skip-runit",
        "--",
        "sh",
        "-c",
        "echo main >> /shared/order",
      ],
      files: {
        "/etc/my_init.d/10_a": mark("10_a"),
        "/etc/rc.local": mark("rc.local"),
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(order(r.shared), ["main"]);
  },
});

Deno.test({
  name:
    "my_init runs startup scripts from ENV_INIT_DIRECTORY instead of /etc/my_init.d, and says so in one line",
  ignore,
  async fn() {
    const r = await runSandbox({
      args: ["--skip-runit", "--", "sh", "-c", "echo main >> /shared/order"],
      env: { ENV_INIT_DIRECTORY: "/opt/init.d" },
      files: {
        "/etc/my_init.d/10_default": mark("10_default"),
        "/opt/init.d/10_custom": mark("10_custom"),
        "/opt/init.d/20_custom": mark("20_custom"),
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(order(r.shared), ["10_custom", "20_custom", "main"]);
    assert.deepEqual(
      logLines(r.stderr).filter((l) => l.includes("startup scripts")),
      [
        "Running the startup scripts in /opt/init.d (ENV_INIT_DIRECTORY), " +
        "not those in /etc/my_init.d...",
      ],
      r.stderr,
    );
  },
});

Deno.test({
  name: "my_init stops a running startup script on TERM and does not boot",
  ignore,
  async fn() {
    // The script would run 100 s; TERM must stop it (it logs the TERM and
    // exits) and my_init must neither run later scripts nor start runit.
    const { out, result } = await withSandbox(
      {
        args: [],
        files: {
          "/etc/my_init.d/10_long": bash([
            "trap 'echo TERM >> /shared/order; exit 0' TERM",
            "echo 10_long >> /shared/order",
            "touch /shared/ready",
            "for i in $(seq 2000); do sleep 0.05; done",
          ].join("\n")),
          "/etc/my_init.d/20_after": mark("20_after"),
          "/etc/service/svc/run": script(
            "touch /shared/service\nexec sleep 1000",
          ),
        },
      },
      async (box, done) => {
        // The script set its trap before it wrote /shared/ready.
        await box.waitFor("ready", 20000);
        const t = Date.now();
        await box.kill("SIGTERM");
        await done;
        return {
          ms: Date.now() - t,
          order: order({ order: await box.read("order") }),
          service: await box.read("service"),
        };
      },
    );
    // phusion's my_init: "Init system aborted." and status 2.
    assert.equal(out.code, 2, out.stderr);
    assert.ok(
      logLines(out.stderr).includes("Init system aborted."),
      out.stderr,
    );
    assert.deepEqual(result.order, ["10_long", "TERM"]);
    assert.equal(result.service, "", "runit was started");
    // Stopped right away, not after the script's 100 s (coarse bound).
    assert.ok(result.ms < 30000, `took ${result.ms} ms`);
  },
});
