/**
 * Non-root mode in real containers (README, "Running without root"): a
 * derived image that ends with `USER app` (testdata/non_root), run as its
 * USER and with `--user 100123:0` (a uid with no passwd entry, as
 * OpenShift's), each plainly and with `--read-only --tmpfs /run --tmpfs
 * /tmp --cap-drop ALL --security-opt no-new-privileges`. In each: one
 * non-root line at boot, the image's root-only services off with one line
 * each, the startup script ran as that uid, the service is up as that uid,
 * restarted after its crash and sees a `-e` variable, `sv` works in a login
 * shell, `my_init --status` (the health check) exits 0, and the default
 * stop exits 0 after the service's own TERM handler ran. Locked down as
 * `--user 100123:0`: `--enable-insecure-key` is off with one line, and
 * `. /etc/container_environment.sh` loads the dump in /tmp.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ENGINE,
  engine,
  engineOk,
  IMAGE,
  readEvents,
  retireImage,
  stopTimed,
  tempDir,
  waitFor,
  withContainer,
} from "./_engine.ts";

const CONTEXT = new URL("./testdata/non_root/", import.meta.url).pathname;
/** The derived image, built by this test on IMAGE. */
const NON_ROOT_IMAGE = `${IMAGE.replace(/:[^:/]*$/, "")}-non-root-test:latest`;

/** What `docker run --read-only` needs, less every privilege. */
const LOCKED_DOWN = [
  "--read-only",
  "--tmpfs",
  "/run",
  "--tmpfs",
  "/tmp",
  "--cap-drop",
  "ALL",
  "--security-opt",
  "no-new-privileges",
];

let built: Promise<void> | undefined;

/** Builds testdata/non_root once per run, replacing the image it replaces. */
function buildImage(): Promise<void> {
  built ??= (async () => {
    const old = await engine([
      "image",
      "inspect",
      "--format",
      "{{.Id}}",
      NON_ROOT_IMAGE,
    ]);
    await engineOk([
      "build",
      "-q",
      ...(ENGINE === "podman" ? ["--format", "docker", "--pull=never"] : []),
      "--network=none",
      "--build-arg",
      `IMAGE=${IMAGE}`,
      "-t",
      NON_ROOT_IMAGE,
      CONTEXT,
    ], { timeoutMs: 300_000 });
    const now = await engineOk([
      "image",
      "inspect",
      "--format",
      "{{.Id}}",
      NON_ROOT_IMAGE,
    ]);
    if (old.code === 0 && old.stdout.trim() !== now.trim()) {
      await retireImage(old.stdout.trim());
    }
  })();
  return built;
}

interface Case {
  label: string;
  /** Flags of `run`. */
  flags: string[];
  /** The uid and gid the container runs as. */
  uid: number;
  gid: number;
  /** Its passwd name in the container, if any. */
  name: string;
}

const CASES: Case[] = [
  {
    label: "user-100123",
    flags: ["--user", "100123:0"],
    uid: 100123,
    gid: 0,
    name: "",
  },
  { label: "user-app", flags: [], uid: 1000, gid: 1000, name: "app" },
  {
    label: "user-100123-locked",
    flags: ["--user", "100123:0", ...LOCKED_DOWN],
    uid: 100123,
    gid: 0,
    name: "",
  },
  {
    label: "user-app-locked",
    flags: LOCKED_DOWN,
    uid: 1000,
    gid: 1000,
    name: "app",
  },
];

for (const k of CASES) {
  const how = [
    k.flags.includes("--user") ? "--user 100123:0" : "USER app",
    ...(k.flags.includes("--read-only")
      ? [
        "--read-only --tmpfs /run --tmpfs /tmp --cap-drop ALL no-new-privileges",
      ]
      : []),
  ].join(" ");
  Deno.test(`non-root: ${how}: the service runs as uid ${k.uid}, restarts, sees -e, status 0, stop exits 0 after its TERM handler`, async () => {
    await buildImage();
    const markers = await tempDir();
    try {
      await withContainer(k.label, [
        "--network=none",
        "-e",
        "FROM_CLI=from-cli",
        "-v",
        `${markers.path}:/markers`,
        ...k.flags,
        NON_ROOT_IMAGE,
      ], async (c) => {
        const events = () => readEvents(`${markers.path}/events`);
        const ups = async () =>
          (await events()).filter((e) => e.startsWith("up ")).length;
        assert.ok(
          await waitFor(async () => await ups() >= 2, 30_000),
          `the service did not restart: ${await events()}\n${await c.logs()}`,
        );
        await c.waitUntilUp();
        const status = await c.exec(["/sbin/my_init", "--status"]);
        assert.equal(status.code, 0, status.stdout + status.stderr);
        assert.match(status.stdout, /^ok: nr-svc: run$/m);
        assert.match(status.stdout, /^ok: cron: down \(disabled\)$/m);
        // A login shell has the environment and finds the services.
        const shell = await c.exec([
          "bash",
          "-lc",
          'echo "[$FROM_CLI] [$(id -u)]"; sv status nr-svc',
        ]);
        assert.match(
          shell.stdout,
          new RegExp(`^\\[from-cli\\] \\[${k.uid}\\]$`, "m"),
        );
        assert.match(
          shell.stdout,
          /^run: nr-svc: \(pid \d+\) \d+s$/m,
          shell.stderr,
        );

        const stop = await stopTimed(c);
        assert.equal(stop.code, 0, await c.logs());
        assert.deepEqual(await events(), [
          `startup ${k.uid}:${k.gid}`,
          `up ${k.uid} from-cli`,
          `up ${k.uid} from-cli`,
          `term ${k.uid}`,
        ]);
        const logs = await c.logs();
        const nonRoot = logs.split("\n").filter((l) =>
          l.startsWith("*** Non-root mode: ")
        );
        assert.equal(nonRoot.length, 1, logs);
        // podman gives a uid without an entry one in /etc/passwd.
        assert.match(
          nonRoot[0],
          new RegExp(
            `^\\*\\*\\* Non-root mode: running as uid ${k.uid} \\((${
              k.name || k.uid
            }|no passwd entry)\\), gid ${k.gid}; state in /tmp; `,
          ),
        );
        assert.match(
          logs,
          /^cron: off in non-root mode: Debian's cron needs root$/m,
        );
        assert.match(
          logs,
          /^10_syslog-ng\.init: syslog-ng is off in non-root mode: /m,
        );
        assert.doesNotMatch(
          logs,
          /fatal|failed with status|Uncaught|panicked/i,
          logs,
        );
      });
    } finally {
      await markers.cleanup();
    }
  });
}

/** What my_init says instead of installing the insecure key as non-root. */
const INSECURE_KEY_OFF =
  "*** Insecure SSH key: off in non-root mode: it is for root's login, and only root can write /root/.ssh and run sshd";

/** Sources /etc/container_environment.sh with a clean environment, `set -eu`. */
const sourced = (shell: string) => [
  "env",
  "-i",
  shell,
  "-euc",
  '. /etc/container_environment.sh; echo "[${FROM_CLI:-}]"',
];

Deno.test("non-root: --user 100123:0 --read-only --tmpfs /run --tmpfs /tmp: my_init --enable-insecure-key says the key is off and boots; . /etc/container_environment.sh loads the dump in /tmp, and not a file another uid planted", async () => {
  await buildImage();
  // The derived image's startup script records into /markers.
  const markers = await tempDir();
  try {
    await envAndKey(markers.path);
  } finally {
    await markers.cleanup();
  }
});

/**
 * The checks of the test above, on a container of NON_ROOT_IMAGE whose
 * /markers is the host directory `markers`.
 */
async function envAndKey(markers: string): Promise<void> {
  await withContainer("nr-env-key", [
    "--network=none",
    "-e",
    "FROM_CLI=from-cli",
    "-v",
    `${markers}:/markers`,
    "--user",
    "100123:0",
    ...LOCKED_DOWN,
    NON_ROOT_IMAGE,
    "/sbin/my_init",
    "--enable-insecure-key",
  ], async (c) => {
    await c.waitUntilUp();
    const logs = await c.logs();
    assert.deepEqual(
      logs.split("\n").filter((l) => /insecure/i.test(l)),
      [INSECURE_KEY_OFF],
      logs,
    );
    // The dump is in /tmp: Docker's --tmpfs /run is empty, podman's has
    // the image's empty placeholder, both root's and mode 0755.
    for (const shell of ["sh", "bash"]) {
      const r = await c.exec(sourced(shell));
      assert.equal(r.code, 0, `${shell}: ${r.stderr}`);
      assert.equal(r.stdout, "[from-cli]\n", shell);
    }
    // Another uid plants a dump in /dev/shm (1777). Root's shell reaches
    // it after passing over uid 100123's dump in /tmp (not root's), and
    // passes over it too (not root's either); uid 100123 keeps its own.
    const plant = await c.sh(
      "printf '%s\\n' \"export FROM_CLI='planted'\" >/dev/shm/container_environment.sh && " +
        "chmod 644 /dev/shm/container_environment.sh",
      { user: "100124:0" },
    );
    assert.equal(plant.code, 0, plant.stderr);
    const root = await c.exec(sourced("sh"), { user: "0" });
    assert.equal(root.code, 0, root.stderr);
    assert.equal(root.stdout, "[]\n");
    const own = await c.exec(sourced("sh"));
    assert.equal(own.stdout, "[from-cli]\n", own.stderr);
  });
}
