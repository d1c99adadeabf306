/**
 * scripts/apt_install.sh and .ci/run's install step, against a stand-in
 * apt-get, dpkg-query and id on a PATH of their own (nothing is installed):
 * only what is missing, one `apt-get install` per package, never Debian's
 * npm where an npm exists, and policy-rc.d refusing starts during a
 * --no-start install and as it was afterwards (issue 19).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

// apt-get logs its arguments (and, during an install, what policy-rc.d
// answers to a start) and fails for FAIL_PKG as apt does on a conflict.
const FAKE_APT_GET = `#!/bin/bash
policy=none
if [ -x "$POLICY_RC_D" ]; then "$POLICY_RC_D" docker start; policy=$?; fi
echo "apt-get $* policy=$policy" >>"$APT_LOG"
for a in "$@"; do [ "$a" = "$FAIL_PKG" ] && exit 100; done
exit 0
`;
// dpkg-query -W -f '\${db:Status-Status}' PKG: "installed" for INSTALLED.
const FAKE_DPKG_QUERY = `#!/bin/bash
for p in $INSTALLED; do [ "$p" = "\${!#}" ] && { printf installed; exit 0; }; done
exit 1
`;

interface Run {
  code: number;
  stderr: string;
  /** apt-get's calls, without the lock-wait option. */
  calls: string[];
}

/**
 * Runs `argv` (a script of the repository and its arguments) with the
 * stand-ins, `commands` as further present commands, and only the system
 * tools the scripts use.
 */
async function run(
  argv: string[],
  options: {
    commands?: string[];
    installed?: string[];
    failPkg?: string;
    policy?: string;
  } = {},
): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "apt-install-test-" });
  try {
    const bin = `${dir}/bin`;
    await Deno.mkdir(bin);
    for (
      const tool of ["bash", "env", "dirname", "mv", "rm", "chmod", "cat"]
    ) {
      const path = new TextDecoder().decode(
        (await new Deno.Command("bash", {
          args: ["-c", `command -v ${tool}`],
          stdout: "piped",
        }).output()).stdout,
      ).trim();
      await Deno.symlink(path, `${bin}/${tool}`);
    }
    const write = (name: string, text: string) =>
      Deno.writeTextFile(`${bin}/${name}`, text, { mode: 0o755 });
    await write("apt-get", FAKE_APT_GET);
    await write("dpkg-query", FAKE_DPKG_QUERY);
    await write("id", "#!/bin/bash\necho 0\n");
    for (const c of options.commands ?? []) {
      await write(c, "#!/bin/bash\nexit 0\n");
    }
    const policy = `${dir}/policy-rc.d`;
    if (options.policy !== undefined) {
      await Deno.writeTextFile(policy, options.policy, { mode: 0o755 });
    }
    const out = await new Deno.Command(`${bin}/bash`, {
      args: argv,
      cwd: ROOT,
      clearEnv: true,
      env: {
        PATH: bin,
        APT_LOG: `${dir}/apt.log`,
        INSTALLED: (options.installed ?? []).join(" "),
        FAIL_PKG: options.failPkg ?? "",
        POLICY_RC_D: policy,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = await Deno.readTextFile(`${dir}/apt.log`).catch(() => "");
    const after = await Deno.readTextFile(policy).catch(() => undefined);
    return {
      code: out.code,
      stderr: new TextDecoder().decode(out.stderr) +
        (after === options.policy ? "" : `\n[policy-rc.d now: ${after}]`),
      calls: log.split("\n").filter((l) => l !== "")
        .map((l) => l.replace(" -o DPkg::Lock::Timeout=300", "")),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const INSTALL = "apt-get install -y -qq --no-install-recommends";

Deno.test(".ci/run --install-only installs the one missing command's package alone, and not npm where an npm exists", async () => {
  const r = await run([".ci/run", "--install-only"], {
    commands: ["make", "npm"],
  });
  assert.deepEqual(r.calls, [
    "apt-get update -qq policy=none",
    `${INSTALL} shellcheck policy=none`,
  ]);
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("apt_install.sh installs each package in its own apt-get install: one that fails is named, the others are installed", async () => {
  const r = await run(["scripts/apt_install.sh", "make", "npm", "shellcheck"], {
    failPkg: "npm",
  });
  assert.equal(r.code, 1);
  assert.deepEqual(r.calls, [
    "apt-get update -qq policy=none",
    `${INSTALL} make policy=none`,
    `${INSTALL} npm policy=none`,
    `${INSTALL} shellcheck policy=none`,
  ]);
  assert.match(r.stderr, /^apt_install: fatal: could not install: npm$/m);
});

Deno.test("apt_install.sh skips what dpkg lists as installed, and runs nothing when all is", async () => {
  const some = await run(["scripts/apt_install.sh", "runit", "dash"], {
    installed: ["dash"],
  });
  assert.equal(some.code, 0, some.stderr);
  assert.deepEqual(some.calls, [
    "apt-get update -qq policy=none",
    `${INSTALL} runit policy=none`,
  ]);
  const none = await run(["scripts/apt_install.sh", "dash"], {
    installed: ["dash"],
  });
  assert.equal(none.code, 0, none.stderr);
  assert.deepEqual(none.calls, []);
});

Deno.test("apt_install.sh --no-start: policy-rc.d refuses starts (101) during the install, and is as it was afterwards", async () => {
  // None before: none after.
  const absent = await run(["scripts/apt_install.sh", "--no-start", "x"]);
  assert.equal(absent.code, 0, absent.stderr);
  assert.deepEqual(absent.calls, [
    "apt-get update -qq policy=101",
    `${INSTALL} x policy=101`,
  ]);
  assert.doesNotMatch(absent.stderr, /policy-rc.d now/);
  // One that allows starts: set aside, then back, byte for byte.
  const allows = "#!/bin/sh\n# the host's\nexit 0\n";
  const allowed = await run(["scripts/apt_install.sh", "--no-start", "x"], {
    policy: allows,
  });
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.deepEqual(allowed.calls, [
    "apt-get update -qq policy=101",
    `${INSTALL} x policy=101`,
  ]);
  assert.doesNotMatch(allowed.stderr, /policy-rc.d now/);
  // One that refuses already: kept, no guard of ours.
  const refuses = "#!/bin/sh\nexit 101\n";
  const kept = await run(["scripts/apt_install.sh", "--no-start", "x"], {
    policy: refuses,
  });
  assert.equal(kept.code, 0, kept.stderr);
  assert.doesNotMatch(kept.stderr, /refusing every service start/);
  // Without --no-start, the host's policy answers.
  const plain = await run(["scripts/apt_install.sh", "x"], { policy: allows });
  assert.deepEqual(plain.calls, [
    "apt-get update -qq policy=0",
    `${INSTALL} x policy=0`,
  ]);
});
