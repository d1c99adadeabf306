/**
 * A second my_init in a running container (`docker exec app my_init --
 * cmd`, an easy mistake) must refuse before it touches anything: no startup
 * script again, no `down` to the first one's services, no environment
 * written, no kill-all. It is started as `docker exec` starts it: nsenter
 * into the sandbox's PID and mount namespaces and its root, so it is no
 * descendant of the sandbox's PID 1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MY_INIT, type Sandbox, script } from "./_sandbox.ts";
import { bash, ignore, logLines, until, withSandbox } from "./_my_init.ts";
import {
  MARKER_PATH,
  secondInstanceMessage,
} from "../../init/instance_check.ts";
import { VERSION } from "../../init/cli.ts";

/** Runs `argv` inside the sandbox as `docker exec` would. */
async function exec(
  box: Sandbox,
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("nsenter", {
    args: ["-t", String(await box.pid1()), "-p", "-m", "-r", "-w", ...argv],
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", SECOND: "1" },
    clearEnv: true,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

// A startup script and a service that log each start, so that a second
// run of either shows.
const FILES = {
  "/etc/my_init.d/10_count": script("echo startup >> /shared/starts"),
  "/etc/service/svc/run": script(
    "echo svc >> /shared/starts\nexec sleep 1000",
  ),
};

/** What a second my_init did, run while `box` runs the first. */
async function tryASecond(box: Sandbox) {
  await until(
    "the first my_init's service runs",
    async () => (await box.read("starts")).includes("svc"),
  );
  const second = await exec(box, [MY_INIT, "--", "true"]);
  const daemon = await exec(box, [
    MY_INIT,
    "--skip-runit",
    "--",
    "sh",
    "-c",
    "echo x",
  ]);
  const version = await exec(box, [MY_INIT, "--version"]);
  const help = await exec(box, [MY_INIT, "--help"]);
  // The first one's service must still be up a second later: the second
  // my_init sent it no `down`.
  await until(
    "the first my_init's service is ready",
    async () => (await exec(box, [MY_INIT, "--status"])).code === 0,
  );
  const status = await exec(box, [MY_INIT, "--status"]);
  const env = await exec(box, [
    "sh",
    "-c",
    "ls /etc/container_environment /run/container_environment 2>/dev/null",
  ]);
  await box.kill("SIGTERM");
  return { second, daemon, version, help, status, env };
}

function assertRefused(
  r: Awaited<ReturnType<typeof tryASecond>>,
  message: (command: string[]) => string,
  starts: string,
): void {
  assert.equal(r.second.code, 2, r.second.stderr);
  assert.equal(r.second.stdout, "");
  assert.equal(r.second.stderr, `*** ${message(["true"])}\n`);
  assert.equal(r.daemon.code, 2, r.daemon.stderr);
  assert.equal(
    r.daemon.stderr,
    `*** ${message(["sh", "-c", "echo x"])}\n`,
  );
  // --status, --help and --version still answer.
  assert.equal(r.version.code, 0, r.version.stderr);
  assert.equal(r.version.stdout, `my_init ${VERSION}\n`);
  assert.equal(r.help.code, 0, r.help.stderr);
  assert.match(r.help.stdout, /^Usage: my_init/);
  assert.equal(r.status.code, 0, r.status.stderr);
  assert.equal(r.status.stdout, "ok: svc: run\n");
  // Nothing ran twice, and the second's environment was written nowhere.
  assert.equal(starts, "startup\nsvc\n");
  assert.doesNotMatch(r.env.stdout, /SECOND/);
}

Deno.test({
  name:
    "a second my_init refuses, exit 2, when PID 1 is my_init, and touches nothing",
  ignore,
  async fn() {
    const { out, result } = await withSandbox(
      { files: FILES },
      async (box, done) => {
        const r = await tryASecond(box);
        await done;
        return { ...r, starts: await box.read("starts") };
      },
    );
    assertRefused(
      result,
      (command) => secondInstanceMessage({ pid: 1, via: "pid1" }, command),
      result.starts,
    );
    // The first one stopped normally, its service once.
    assert.equal(out.code, 0, out.stderr);
    assert.ok(
      logLines(out.stderr).includes("Running /etc/my_init.d/10_count..."),
    );
  },
});

Deno.test({
  name:
    "a second my_init refuses when the first is not PID 1 (docker run --init) but its marker names it",
  ignore,
  async fn() {
    // PID 1 is a shell, as tini or a pod's pause would be; the first
    // my_init is its child and writes the marker.
    const { out, result } = await withSandbox(
      {
        command: ["bash", "/init"],
        files: {
          ...FILES,
          "/init": bash(
            `${MY_INIT} & pid=$!\n` +
              `until [ -s ${MARKER_PATH} ]; do sleep 0.05; done\n` +
              `cat ${MARKER_PATH} > /shared/marker\n` +
              `trap 'kill -TERM $pid' TERM\n` +
              `wait $pid; wait $pid; echo $? > /shared/rc\n` +
              `[ -e ${MARKER_PATH} ] && echo left > /shared/marker_left\n` +
              "exit 0",
          ),
        },
      },
      async (box, done) => {
        const r = await tryASecond(box);
        await done;
        return {
          ...r,
          starts: await box.read("starts"),
          marker: await box.read("marker"),
          rc: await box.read("rc"),
          left: await box.read("marker_left"),
        };
      },
    );
    const pid = Number(result.marker.trim());
    assert.ok(pid > 1, `marker: "${result.marker}"`);
    assertRefused(
      result,
      (command) => secondInstanceMessage({ pid, via: "marker" }, command),
      result.starts,
    );
    assert.equal(result.rc, "0\n", out.stderr);
    assert.equal(result.left, "", "the first my_init left its marker");
  },
});

Deno.test({
  name:
    "my_init as PID 1 of a nested PID namespace runs under a my_init PID 1, as before",
  ignore,
  async fn() {
    const nested =
      `unshare --pid --fork --mount-proc ${MY_INIT} --skip-startup-files ` +
      "--skip-runit -- sh -c 'exit 7'";
    const { out, result } = await withSandbox(
      {
        args: [
          "--skip-runit",
          "--",
          "sh",
          "-c",
          `${nested}; echo $? > /shared/rc`,
        ],
      },
      async (box, done) => {
        await done;
        return await box.read("rc");
      },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(result, "7\n", out.stderr);
  },
});
