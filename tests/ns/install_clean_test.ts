/**
 * install_clean, run as built (dist/install_clean) by root on the host with
 * a stand-in apt-get that logs its calls. Each run happens in a mount
 * namespace of its own with a tmpfs over /var/lib/apt/lists, so the host's
 * lists are never touched.
 *
 * @module
 */

import assert from "node:assert/strict";
import { USAGE } from "../../install_clean/cli.ts";

// BASEIMAGE_DIST: test another build of the tools (e.g. a rootfs) than dist/.
const DIST = Deno.env.get("BASEIMAGE_DIST") ??
  new URL("../../dist/", import.meta.url).pathname;
const INSTALL_CLEAN = `${DIST.replace(/\/?$/, "/")}install_clean`;
const LISTS = "/var/lib/apt/lists";

const ignore = Deno.uid() !== 0;

// The stand-in: one log line per call (arguments separated by "|"), then
// the call's DEBIAN_FRONTEND and SigIgn mask. FAIL_STEP makes that step fail.
const FAKE_APT_GET = `#!/bin/sh
{
  printf 'apt-get'; for a in "$@"; do printf '|%s' "$a"; done; echo
  echo "  DEBIAN_FRONTEND=$DEBIAN_FRONTEND"
  grep '^SigIgn:' /proc/$$/status | tr -d '\\t' | sed 's/^/  /'
} >> "$FAKE_APT_LOG"
if [ "$1" = install ] && [ -n "$ORPHAN" ]; then
  # A daemon a postinst starts: double-forked, orphaned to PID 1, exits
  # (it leaves a file as its last act). Once it has, PID 1 gets up to 5 s,
  # polled, to reap it; a zombie left then is counted.
  sh -c '(sleep 0.1; : > "$FAKE_APT_LOG.orphan") &'
  while [ ! -e "$FAKE_APT_LOG.orphan" ]; do sleep 0.02; done
  zombies() { grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l; }
  for i in $(seq 100); do [ "$(zombies)" = 0 ] && break; sleep 0.05; done
  echo "  zombies=$(zombies)" >> "$FAKE_APT_LOG"
fi
[ "$1" = "$FAIL_STEP" ] && exit 100
exit 0
`;

// Inside the namespace: fill the lists as apt-get update would, run
// install_clean, then list what is left, one path a line.
const IN_NAMESPACE = `
set -u
mount -t tmpfs tmpfs ${LISTS} || exit 99
mkdir -p ${LISTS}/partial ${LISTS}/auxfiles
: > ${LISTS}/lock
: > ${LISTS}/partial/deb.debian.org_Packages.lz4.part
: > ${LISTS}/auxfiles/x
: > ${LISTS}/deb.debian.org_debian_dists_bookworm_InRelease
[ -n "$ORPHAN" ] && PATH="$INSTALL_CLEAN_PATH" exec "$@"
PATH="$INSTALL_CLEAN_PATH" "$@"
status=$?
find ${LISTS} -mindepth 1 | sort > "$LISTS_LEFT"
exit $status
`;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** The stand-in's log. */
  log: string;
  /** What is left in the lists directory, relative to it. */
  left: string[];
}

async function installClean(
  args: string[],
  options: { failStep?: string; path?: string; asPid1?: boolean } = {},
): Promise<Outcome> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/apt-get`, FAKE_APT_GET, { mode: 0o755 });
    const env: Record<string, string> = {
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      INSTALL_CLEAN_PATH: options.path ?? `${dir}:/usr/bin:/bin`,
      FAKE_APT_LOG: `${dir}/log`,
      FAIL_STEP: options.failStep ?? "",
      LISTS_LEFT: `${dir}/left`,
      ORPHAN: options.asPid1 ? "1" : "",
      DEBIAN_FRONTEND: "dialog",
    };
    const out = await new Deno.Command("/usr/bin/unshare", {
      args: [
        "--mount",
        "--propagation",
        "private",
        ...(options.asPid1 ? ["--pid", "--fork", "--mount-proc"] : []),
        "/bin/sh",
        "-c",
        IN_NAMESPACE,
        "sh",
        INSTALL_CLEAN,
        ...args,
      ],
      env,
      stdin: "null",
    }).output();
    const text = new TextDecoder();
    assert.notEqual(out.code, 99, "the tmpfs could not be mounted");
    const left = await Deno.readTextFile(`${dir}/left`).catch(() => "");
    const listed = left.split("\n").filter(Boolean);
    return {
      code: out.code,
      stdout: text.decode(out.stdout),
      stderr: text.decode(out.stderr),
      log: await Deno.readTextFile(`${dir}/log`).catch(() => ""),
      left: listed.map((p) => p.slice(LISTS.length + 1)),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function calls(log: string): string[] {
  return log.split("\n").filter((l) => l.startsWith("apt-get"));
}

Deno.test({
  name: "install_clean runs update, install, autoremove and clean in order",
  ignore,
  fn: async () => {
    const r = await installClean(["nginx", "my package"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(calls(r.log), [
      "apt-get|update",
      "apt-get|install|-y|--no-install-recommends|nginx|my package",
      "apt-get|autoremove|-y",
      "apt-get|clean",
    ]);
  },
});

Deno.test({
  name: "install_clean runs apt-get noninteractive with default SIGPIPE",
  ignore,
  fn: async () => {
    const r = await installClean(["nginx"]);
    const envs = r.log.split("\n").filter((l) => l.includes("DEBIAN_FRONTEND"));
    assert.equal(envs.length, 4);
    for (const line of envs) {
      assert.equal(line, "  DEBIAN_FRONTEND=noninteractive");
    }
    const masks = r.log.split("\n").filter((l) => l.includes("SigIgn"));
    assert.equal(masks.length, 4);
    for (const line of masks) {
      const mask = BigInt(`0x${line.trim().slice("SigIgn:".length)}`);
      assert.equal(mask & (1n << 12n), 0n, `SIGPIPE ignored: ${line}`);
    }
  },
});

Deno.test({
  name: "install_clean --install-recommends drops --no-install-recommends",
  ignore,
  fn: async () => {
    const r = await installClean([
      "--install-recommends",
      "-t",
      "bookworm-backports",
      "nginx",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      calls(r.log)[1],
      "apt-get|install|-y|-t|bookworm-backports|nginx",
    );
  },
});

Deno.test({
  name: "install_clean empties the lists directory entirely",
  ignore,
  fn: async () => {
    const r = await installClean(["nginx"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.left, []);
  },
});

Deno.test({
  name:
    "install_clean still cleans after a failed install and exits with apt's status",
  ignore,
  fn: async () => {
    const r = await installClean(["nginx"], { failStep: "install" });
    assert.equal(r.code, 100);
    assert.deepEqual(calls(r.log), [
      "apt-get|update",
      "apt-get|install|-y|--no-install-recommends|nginx",
      "apt-get|clean",
    ]);
    assert.deepEqual(r.left, []);
    assert.equal(
      r.stderr,
      "install_clean: warning: apt-get install failed with status 100\n",
    );
  },
});

Deno.test({
  name: "install_clean skips the install when the update fails",
  ignore,
  fn: async () => {
    const r = await installClean(["nginx"], { failStep: "update" });
    assert.equal(r.code, 100);
    assert.deepEqual(calls(r.log), ["apt-get|update", "apt-get|clean"]);
    assert.deepEqual(r.left, []);
  },
});

Deno.test({
  name:
    "install_clean exits 127 when apt-get is not found, and still empties the lists",
  ignore,
  fn: async () => {
    const r = await installClean(["nginx"], { path: "/nonexistent" });
    assert.equal(r.code, 127);
    assert.match(
      r.stderr,
      /^install_clean: warning: unable to run "apt-get": No such file or directory \(ENOENT\)\n/,
    );
    assert.deepEqual(r.left, []);
  },
});

Deno.test({
  name: "install_clean without a package prints the usage line and exits 1",
  ignore,
  fn: async () => {
    const r = await installClean([]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "install_clean: fatal: missing package\n" +
        "Usage: install_clean [--install-recommends] [APT-OPTION...] PACKAGE...\n" +
        "Try 'install_clean --help'.\n",
    );
    assert.equal(r.log, "");
    // A usage error runs nothing, not even the cleaning.
    assert.deepEqual(r.left, [
      "auxfiles",
      "auxfiles/x",
      "deb.debian.org_debian_dists_bookworm_InRelease",
      "lock",
      "partial",
      "partial/deb.debian.org_Packages.lz4.part",
    ]);
  },
});

Deno.test({
  name: "install_clean --help prints the usage and exits 0",
  ignore,
  fn: async () => {
    const r = await installClean(["--help"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, USAGE);
    assert.equal(r.log, "");
  },
});

Deno.test({
  name: "install_clean as PID 1 reaps the orphans apt-get leaves",
  ignore,
  fn: async () => {
    const r = await installClean(["nginx"], { asPid1: true });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(calls(r.log).length, 4);
    assert.match(r.log, /^ {2}zombies=0$/m);
  },
});

Deno.test({
  name:
    "install_clean as PID 1 passes TERM on to apt-get, skips to the cleaning and exits with apt-get's status",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.mkdir(`${dir}/lists/partial`, { recursive: true });
      await Deno.writeTextFile(`${dir}/lists/InRelease`, "");
      await Deno.writeTextFile(
        `${dir}/apt-get`,
        `#!/bin/sh
echo "apt-get $1" >> "$LOG"
if [ "$1" = update ]; then
  trap 'echo "update got TERM" >> "$LOG"; exit 100' TERM
  touch "$READY"
  while :; do sleep 0.05; done
fi
exit 0
`,
        { mode: 0o755 },
      );
      const child = new Deno.Command("/usr/bin/unshare", {
        args: [
          "--mount",
          "--propagation",
          "private",
          "--pid",
          "--fork",
          "--mount-proc",
          "--kill-child",
          "/bin/sh",
          "-c",
          `mount --bind "$LISTS_DIR" ${LISTS} || exit 99; PATH="$TOOL_PATH" exec "$@"`,
          "sh",
          INSTALL_CLEAN,
          "nginx",
        ],
        env: {
          PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
          TOOL_PATH: `${dir}:/usr/bin:/bin`,
          LOG: `${dir}/log`,
          READY: `${dir}/ready`,
          LISTS_DIR: `${dir}/lists`,
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = child.output();
      const deadline = Date.now() + 20000;
      while (!(await exists(`${dir}/ready`))) {
        assert.ok(Date.now() < deadline, "apt-get update never started");
        await new Promise((r) => setTimeout(r, 20));
      }
      // The namespace's PID 1, install_clean, is unshare's only child.
      const pid1 = Number(
        (await Deno.readTextFile(
          `/proc/${child.pid}/task/${child.pid}/children`,
        )).trim(),
      );
      Deno.kill(pid1, "SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20000);
      const out = await output;
      clearTimeout(timer);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 100, stderr);
      assert.deepEqual(
        (await Deno.readTextFile(`${dir}/log`)).trimEnd().split("\n"),
        ["apt-get update", "update got TERM", "apt-get clean"],
      );
      assert.deepEqual([...Deno.readDirSync(`${dir}/lists`)], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/**
 * Runs install_clean as PID 1 with a stand-in apt-get whose `update` logs
 * each stop signal it gets and exits 0 once it has had `signals.length`;
 * sends them one by one, each once the previous one has reached apt-get.
 * The exit code and the stand-in's log.
 */
async function stopDuringUpdate(
  signals: Deno.Signal[],
): Promise<{ code: number; log: string[] }> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/lists`);
    await Deno.writeTextFile(
      `${dir}/apt-get`,
      `#!/bin/sh
echo "apt-get $1" >> "$LOG"
if [ "$1" = update ]; then
  n=0
  got() { echo "update got $1" >> "$LOG"; n=$((n + 1)); }
  trap 'got INT' INT; trap 'got HUP' HUP; trap 'got TERM' TERM
  touch "$READY"
  until [ "$n" -ge "$EXPECT" ]; do sleep 0.02; done
fi
exit 0
`,
      { mode: 0o755 },
    );
    const child = new Deno.Command("/usr/bin/unshare", {
      args: [
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--mount-proc",
        "--kill-child",
        "/bin/sh",
        "-c",
        `mount --bind "$LISTS_DIR" ${LISTS} || exit 99; PATH="$TOOL_PATH" exec "$@"`,
        "sh",
        INSTALL_CLEAN,
        "nginx",
      ],
      env: {
        PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
        TOOL_PATH: `${dir}:/usr/bin:/bin`,
        LOG: `${dir}/log`,
        READY: `${dir}/ready`,
        LISTS_DIR: `${dir}/lists`,
        EXPECT: String(signals.length),
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 20000);
    try {
      const deadline = Date.now() + 15000;
      const until = async (what: string, ok: () => Promise<boolean>) => {
        while (!await ok()) {
          assert.ok(Date.now() < deadline, what);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await until("apt-get update never started", () => exists(`${dir}/ready`));
      const pid1 = Number(
        (await Deno.readTextFile(
          `/proc/${child.pid}/task/${child.pid}/children`,
        )).trim(),
      );
      for (const [i, signal] of signals.entries()) {
        Deno.kill(pid1, signal);
        await until(
          `apt-get did not get ${signal}`,
          async () =>
            (await Deno.readTextFile(`${dir}/log`)).split("\n")
              .filter((l) => l.startsWith("update got")).length > i,
        );
      }
      const { code } = await child.status;
      return {
        code,
        log: (await Deno.readTextFile(`${dir}/log`)).trimEnd().split("\n"),
      };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "install_clean passes INT, HUP and TERM on as they are, then cleans and exits 128+N",
  ignore,
  fn: async () => {
    for (
      const [signal, code] of [["INT", 130], ["HUP", 129], [
        "TERM",
        143,
      ]] as const
    ) {
      assert.deepEqual(await stopDuringUpdate([`SIG${signal}`]), {
        code,
        log: ["apt-get update", `update got ${signal}`, "apt-get clean"],
      }, signal);
    }
  },
});

Deno.test({
  name:
    "install_clean exits 128+N of the first stop signal: INT then TERM gives 130",
  ignore,
  fn: async () => {
    assert.deepEqual(await stopDuringUpdate(["SIGINT", "SIGTERM"]), {
      code: 130,
      log: [
        "apt-get update",
        "update got INT",
        "update got TERM",
        "apt-get clean",
      ],
    });
  },
});
