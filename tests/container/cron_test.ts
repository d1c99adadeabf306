/**
 * Cron as the README's "Cron" section promises it, with real jobs run by
 * the image's cron at a real minute: every job (of /etc/cron.d, a user's
 * crontab, run-parts) starts with the container environment, a `-e`
 * variable and one a startup script set, byte-exact; the crontab's own
 * variables win, HOME and LOGNAME are the job user's; the output reaches
 * the container log, a line per line, naming the user and the command; a
 * job that writes nothing logs nothing, and MAILTO="" discards.
 *
 * cron runs `* * * * *` jobs at the first minute after it started: one
 * container holds every job, so the file waits for one minute boundary
 * (1 to 60 s after the boot), and the other test files run meanwhile. Each
 * job takes cron's whole path (its PAM session, the job's shell, the mail
 * of its output): none is run by hand.
 */
import assert from "node:assert/strict";
import {
  type Container,
  IMAGE,
  tempDir,
  waitFor,
  withContainer,
} from "./_engine.ts";
import { NEVER_EXPORTED } from "../../init/env.ts";

/** Values a shell's or a naive file's quoting would get wrong. */
const TRICKY = `"quoted" 'and' $HOME \`id\` 50% a=b  trailing backslash\\`;

/** Variables that pam_env cannot carry: left out, with a warning each. */
const UNREADABLE = { HASH_VALUE: "pass#word", TWO_LINES: "one\ntwo" };

/** A job printing one line of 5000 bytes, over syslog's usual 1 KiB. */
const LONG_LINE_JOB = 'head -c 5000 /dev/zero | tr "\\000" x; echo';

const CROND = [
  "# tests/container/cron_test.ts",
  "CRONTAB_SET=from the crontab",
  "* * * * * root env -0 >/tmp/cron/env.crond; echo one; echo two >&2",
  "* * * * * root run-parts --report /etc/cron.test",
  "* * * * * root touch /tmp/cron/silent",
  `* * * * * root ${LONG_LINE_JOB}`,
  "",
].join("\n");

const QUIET = [
  'MAILTO=""',
  "* * * * * root touch /tmp/cron/quiet; echo quiet-output-discarded",
  "",
].join("\n");

const MAILTO = [
  "MAILTO=ops@example.com",
  "* * * * * root echo to-ops",
  "",
].join("\n");

const USER_CRONTAB = [
  "* * * * * env -0 >/tmp/cron/env.nobody; echo from nobody",
  "",
].join("\n");

const RUN_PARTS_PROBE = [
  "#!/bin/sh",
  "env -0 >/tmp/cron/env.run-parts",
  "echo from run-parts",
  "",
].join("\n");

/** Sets FROM_SCRIPT as the README's startup scripts do, and makes /tmp/cron. */
const STARTUP_SCRIPT = [
  "#!/bin/sh",
  "set -e",
  "mkdir -p -m 1777 /tmp/cron",
  "printf %s 'set by a startup script' >/etc/container_environment/FROM_SCRIPT",
  "",
].join("\n");

/** NUL-separated `NAME=value` entries as a map. */
function parseEnviron(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of text.split("\0")) {
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/**
 * What cron itself sets in a job (crontab(5)), what dash adds, and what
 * describes a user and so is never exported (USER and the others: a job
 * has its own user's, and Debian's cron sets no USER).
 */
const SET_BY_CRON = new Set([
  "HOME",
  "LOGNAME",
  "SHELL",
  "PATH",
  "PWD",
  ...NEVER_EXPORTED,
]);

/**
 * Asserts that `job` is the container environment `services` (as runit's
 * services have it) but for what cron sets, plus `extra`.
 */
function assertContainerEnv(
  job: Map<string, string>,
  services: Map<string, string>,
  extra: Record<string, string>,
): void {
  const expected = new Map(
    [...services].filter(([name]) =>
      !SET_BY_CRON.has(name) && !(name in UNREADABLE)
    ),
  );
  for (const [name, value] of Object.entries(extra)) expected.set(name, value);
  const actual = new Map([...job].filter(([name]) => !SET_BY_CRON.has(name)));
  assert.deepEqual(
    Object.fromEntries([...actual].sort()),
    Object.fromEntries([...expected].sort()),
  );
}

/** Writes `text` to `path` with `mode`. */
async function put(path: string, text: string, mode: number): Promise<void> {
  await Deno.writeTextFile(path, text);
  await Deno.chmod(path, mode);
}

/** Reads a file the jobs wrote; "" while it is not there. */
async function jobFile(c: Container, name: string): Promise<string> {
  const r = await c.exec(["cat", `/tmp/cron/${name}`]);
  return r.code === 0 ? r.stdout : "";
}

Deno.test("cron: jobs of /etc/cron.d, a user's crontab and run-parts get the container environment, and their output reaches the container log", async (t) => {
  const dir = await tempDir();
  try {
    const d = dir.path;
    await put(`${d}/crond`, CROND, 0o644);
    await put(`${d}/quiet`, QUIET, 0o644);
    await put(`${d}/mailto`, MAILTO, 0o644);
    await put(`${d}/nobody`, USER_CRONTAB, 0o600);
    await put(`${d}/50_cron_test`, STARTUP_SCRIPT, 0o755);
    await Deno.mkdir(`${d}/cron.test`, { mode: 0o755 });
    await Deno.chmod(`${d}/cron.test`, 0o755);
    await put(`${d}/cron.test/probe`, RUN_PARTS_PROBE, 0o755);
    await withContainer("cron", [
      "--network=none",
      "-e",
      `TRICKY=${TRICKY}`,
      "-e",
      "CRONTAB_SET=from the engine",
      "-e",
      "USER=not the job's user",
      ...Object.entries(UNREADABLE).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
      "-v",
      `${d}/crond:/etc/cron.d/cron-test:ro`,
      "-v",
      `${d}/quiet:/etc/cron.d/cron-quiet:ro`,
      "-v",
      `${d}/mailto:/etc/cron.d/cron-mailto:ro`,
      "-v",
      `${d}/nobody:/var/spool/cron/crontabs/nobody:ro`,
      "-v",
      `${d}/cron.test:/etc/cron.test:ro`,
      "-v",
      `${d}/50_cron_test:/etc/my_init.d/50_cron_test:ro`,
      IMAGE,
    ], async (c) => {
      // After the boot, a variable written to the directory reaches no job:
      // jobs get the environment of the boot.
      await c.waitUntilUp();
      const late = await c.sh(
        "printf late >/etc/container_environment/LATE_VARIABLE",
      );
      assert.equal(late.code, 0, late.stderr);
      // The first minute boundary after cron started, and a margin.
      const ran = await waitFor(
        async () => {
          const done = await c.sh(
            "cd /tmp/cron && test -s env.crond && test -s env.nobody && " +
              "test -s env.run-parts && test -e silent && test -e quiet",
          );
          return done.code === 0;
        },
        95_000,
        1_000,
      );
      assert.ok(ran, (await c.sh("ls -la /tmp/cron")).stdout + await c.logs());
      const services = parseEnviron(
        (await c.sh("cat /proc/$(pidof runsvdir)/environ")).stdout,
      );
      // The container environment as runit's services have it.
      assert.equal(services.get("TRICKY"), TRICKY);
      assert.equal(services.get("FROM_SCRIPT"), "set by a startup script");

      await t.step(
        "a job of /etc/cron.d: the container environment of the boot, byte-exact; the crontab's variable wins; HOME and LOGNAME are root's",
        async () => {
          const job = parseEnviron(await jobFile(c, "env.crond"));
          assertContainerEnv(job, services, {
            CRONTAB_SET: "from the crontab",
          });
          assert.equal(job.get("TRICKY"), TRICKY);
          assert.equal(job.get("FROM_SCRIPT"), "set by a startup script");
          assert.equal(job.get("HOME"), "/root");
          assert.equal(job.get("LOGNAME"), "root");
          assert.equal(job.get("USER"), undefined);
          assert.equal(job.get("LATE_VARIABLE"), undefined);
        },
      );

      await t.step(
        "a user's crontab: the container environment, with nobody's HOME and LOGNAME and cron's PATH",
        async () => {
          const job = parseEnviron(await jobFile(c, "env.nobody"));
          assertContainerEnv(job, services, {});
          assert.equal(job.get("HOME"), "/nonexistent");
          assert.equal(job.get("LOGNAME"), "nobody");
          assert.equal(job.get("PATH"), "/usr/bin:/bin");
        },
      );

      await t.step(
        "a script run by run-parts: the container environment",
        async () => {
          const job = parseEnviron(await jobFile(c, "env.run-parts"));
          assertContainerEnv(job, services, {
            CRONTAB_SET: "from the crontab",
          });
        },
      );

      await t.step(
        "what pam_env cannot carry (a '#', a newline) is left out, with one warning each",
        async () => {
          const job = parseEnviron(await jobFile(c, "env.crond"));
          for (const name of Object.keys(UNREADABLE)) {
            assert.equal(job.get(name), undefined, name);
          }
          const warnings = (await c.logs()).split("\n")
            .filter((l) => l.includes("cron jobs go without it"));
          assert.deepEqual(warnings, [
            "*** Leaving HASH_VALUE out of /run/container_environment.pam_env: " +
            'cron jobs go without it: pam_env reads "#" as the start of a ' +
            "comment, even in a value",
            "*** Leaving TWO_LINES out of /run/container_environment.pam_env: " +
            "cron jobs go without it: pam_env cannot read a newline in a value",
          ]);
        },
      );

      await t.step(
        "output reaches the container log, one line per line, naming the user and the command",
        async () => {
          const expected = [
            "cron: (root) OUTPUT (env -0 >/tmp/cron/env.crond; echo one; echo two >&2) one",
            "cron: (root) OUTPUT (env -0 >/tmp/cron/env.crond; echo one; echo two >&2) two",
            "cron: (nobody) OUTPUT (env -0 >/tmp/cron/env.nobody; echo from nobody) from nobody",
            "cron: (root) OUTPUT (run-parts --report /etc/cron.test) /etc/cron.test/probe:",
            "cron: (root) OUTPUT (run-parts --report /etc/cron.test) from run-parts",
            // MAILTO names an address: logged the same way.
            "cron: (root) OUTPUT (echo to-ops) to-ops",
            // A long line, whole.
            `cron: (root) OUTPUT (${LONG_LINE_JOB}) ${"x".repeat(5000)}`,
          ];
          const outputLines = async () =>
            (await c.logs()).split("\n")
              .map((l) => l.replace(/^.* (cron: )/, "$1"))
              .filter((l) => l.startsWith("cron: "));
          // sendmail logs once the job has ended.
          await waitFor(async () => {
            const lines = await outputLines();
            return expected.every((l) => lines.includes(l));
          }, 10_000);
          const lines = await outputLines();
          assert.deepEqual(
            lines.filter((l) => !l.includes("/tmp/cron/silent")).sort(),
            expected.sort(),
            await c.logs(),
          );
        },
      );

      await t.step(
        'a job that writes nothing logs nothing, and MAILTO="" discards the output',
        async () => {
          const logs = await c.logs();
          assert.doesNotMatch(logs, /OUTPUT \(touch \/tmp\/cron\/silent\)/);
          assert.doesNotMatch(logs, /OUTPUT \(touch \/tmp\/cron\/quiet/);
          assert.doesNotMatch(logs, /No MTA installed/);
          // Both ran: cron's own line names them.
          assert.match(
            logs,
            /CRON\[\d+\]: \(root\) CMD \(touch \/tmp\/cron\/silent\)/,
          );
          assert.match(
            logs,
            /CRON\[\d+\]: \(root\) CMD \(touch \/tmp\/cron\/quiet; /,
          );
        },
      );

      await t.step(
        "only cron's PAM configuration reads the file: login shells and sshd keep theirs",
        async () => {
          const r = await c.sh(
            "grep -l container_environment.pam_env /etc/pam.d/* /etc/environment /etc/security/pam_env.conf",
          );
          assert.equal(r.stdout, "/etc/pam.d/cron\n", r.stderr);
        },
      );

      await t.step(
        "the output is in /var/log/syslog and /var/log/cron.log too",
        async () => {
          const r = await c.sh(
            "grep -h 'cron: (nobody) OUTPUT' /var/log/syslog /var/log/cron.log",
          );
          assert.equal(
            r.stdout.trim().split("\n").length,
            2,
            r.stdout + r.stderr,
          );
        },
      );
    });
  } finally {
    await dir.cleanup();
  }
});
