/**
 * setuser, run as built (dist/setuser) by root. The tests that need users of
 * their own run setuser in a sandbox (tests/ns/_sandbox.ts: a PID namespace
 * chrooted into an overlay of /) whose /etc/passwd and /etc/group are the
 * host's plus a test user and two groups: the host's files are never
 * written, so a killed run leaves nothing behind. The others run it on the
 * host with users it has (root, nobody).
 *
 * @module
 */

import assert from "node:assert/strict";
import { USAGE } from "../../setuser/cli.ts";
import { type Fixture as Files, runSandbox } from "./_sandbox.ts";

// BASEIMAGE_DIST: test another build of the tools (e.g. a rootfs) than dist/.
// The sandbox shows the host's root filesystem and this repository: the
// build must lie on one of them.
const DIST = Deno.env.get("BASEIMAGE_DIST") ??
  new URL("../../dist/", import.meta.url).pathname;
const SETUSER = `${DIST.replace(/\/?$/, "/")}setuser`;

const isRoot = Deno.uid() === 0;
const ignore = !isRoot;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<Result> {
  const out = await new Deno.Command(cmd, { args, env, stdin: "null" })
    .output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

function setuser(
  args: string[],
  env?: Record<string, string>,
): Promise<Result> {
  return run(SETUSER, args, env);
}

/** How a command runs in a sandbox. */
interface SandboxRun {
  /** Files laid over the root (e.g. /etc/passwd). */
  files?: Files;
  /** Its environment (PATH is added). */
  env?: Record<string, string>;
  /** Mount /proc (default true). */
  proc?: boolean;
}

/**
 * Runs `argv` in a sandbox, as the child of its PID 1 shell (which passes
 * the exit status on): setuser runs as it does in a container, not as
 * PID 1. Also returns the files the command left in /shared.
 */
async function runInSandbox(
  argv: string[],
  options: SandboxRun = {},
): Promise<Result & { shared: Record<string, string> }> {
  const r = await runSandbox({
    // The sandbox's root comes out mode 0700 (it takes the mode of the
    // fixture's temporary directory): open it to the user, in the overlay.
    // `; exit $?` keeps the shell from exec'ing the command in its place.
    command: [
      "/bin/sh",
      "-c",
      'chmod 0755 / && "$@"; exit $?',
      "sh",
      ...argv,
    ],
    files: options.files,
    env: options.env,
    proc: options.proc,
  });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, shared: r.shared };
}

/** A user with a login group and one supplementary group, all new. */
interface Fixture {
  user: string;
  uid: number;
  primary: string;
  gid: number;
  extra: string;
  extraGid: number;
  /** Runs `argv` in a sandbox where the user exists. */
  run(argv: string[], options?: Omit<SandboxRun, "files">): Promise<Result>;
}

/** The ids (third field) of a passwd or group file. */
function ids(text: string): Set<number> {
  return new Set(
    text.split("\n").filter((l) => l.includes(":")).map((l) =>
      Number(l.split(":")[2])
    ),
  );
}

/**
 * The host's /etc/passwd and /etc/group plus a user with its login group
 * and a supplementary group, on ids neither file uses (as useradd would
 * pick them), for sandboxes only.
 */
async function withUser(fn: (f: Fixture) => Promise<void>): Promise<void> {
  const withNewline = (t: string) =>
    t === "" || t.endsWith("\n") ? t : `${t}\n`;
  const passwd = withNewline(await Deno.readTextFile("/etc/passwd"));
  const group = withNewline(await Deno.readTextFile("/etc/group"));
  const taken = new Set([...ids(passwd), ...ids(group)]);
  const free = (from: number) => {
    let id = from;
    while (taken.has(id)) id++;
    taken.add(id);
    return id;
  };
  const uid = free(42000), gid = free(uid), extraGid = free(gid);
  const user = "bisetuser", primary = "bisetuserp", extra = "bisetusere";
  for (
    const [name, text] of [[user, passwd], [primary, group], [extra, group]]
  ) {
    assert.ok(!text.split("\n").some((l) => l.startsWith(`${name}:`)), name);
  }
  const files: Files = {
    "/etc/passwd": `${passwd}${user}:x:${uid}:${gid}::/home/${user}:/bin/sh\n`,
    "/etc/group":
      `${group}${primary}:x:${gid}:\n${extra}:x:${extraGid}:${user}\n`,
  };
  await fn({
    user,
    uid,
    primary,
    gid,
    extra,
    extraGid,
    run: async (argv, options = {}) => {
      const r = await runInSandbox(argv, { ...options, files });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    },
  });
}

function sorted(ids: string): number[] {
  return ids.split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
}

Deno.test({
  name: "setuser drops to the user's uid, gid and groups",
  ignore,
  fn: () =>
    withUser(async (f) => {
      const r = await f.run([
        SETUSER,
        f.user,
        "sh",
        "-c",
        "id -u; id -g; id -G; id -ru; id -rg",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [uid, gid, groups, ruid, rgid] = r.stdout.trim().split("\n");
      assert.equal(Number(uid), f.uid);
      assert.equal(Number(ruid), f.uid);
      assert.equal(Number(gid), f.gid);
      assert.equal(Number(rgid), f.gid);
      // The group database's groups, none of root's.
      assert.deepEqual(
        sorted(groups),
        [f.gid, f.extraGid].sort((a, b) => a - b),
      );
    }),
});

Deno.test({
  name: "setuser accepts a numeric uid and USER:GROUP with a name or a gid",
  ignore,
  fn: () =>
    withUser(async (f) => {
      const byUid = await f.run([SETUSER, String(f.uid), "id", "-un"]);
      assert.equal(byUid.stdout.trim(), f.user, byUid.stderr);
      for (const group of [f.extra, String(f.extraGid)]) {
        const r = await f.run([
          SETUSER,
          `${f.user}:${group}`,
          "sh",
          "-c",
          "id -g; id -G",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const [gid, groups] = r.stdout.trim().split("\n");
        assert.equal(Number(gid), f.extraGid);
        // As runuser -g: GROUP replaces the login group.
        assert.deepEqual(sorted(groups), [f.extraGid]);
      }
    }),
});

Deno.test({
  name: "setuser sets HOME, USER, LOGNAME, UID and SHELL and keeps the rest",
  ignore,
  fn: () =>
    withUser(async (f) => {
      const r = await f.run([SETUSER, f.user, "env"], {
        env: {
          KEEP_ME: "a value with spaces",
          HOME: "/root",
          USER: "root",
        },
      });
      assert.equal(r.code, 0, r.stderr);
      const env = new Map(
        r.stdout.trim().split("\n").map((
          l,
        ) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      );
      assert.equal(env.get("HOME"), `/home/${f.user}`);
      assert.equal(env.get("USER"), f.user);
      assert.equal(env.get("LOGNAME"), f.user);
      assert.equal(env.get("UID"), String(f.uid));
      assert.equal(env.get("SHELL"), "/bin/sh");
      assert.equal(env.get("KEEP_ME"), "a value with spaces");
      // The launcher's bookkeeping does not reach the command.
      assert.equal(env.get("BASEIMAGE_CALLER_DENO_DIR"), undefined);
      assert.equal(env.get("DENO_DIR"), undefined);
    }),
});

Deno.test({
  name: "setuser runs the command in place, with the same PID",
  ignore,
  fn: () =>
    withUser(async (f) => {
      const r = await f.run([
        "sh",
        "-c",
        `echo $$; exec "$0" "$1" sh -c 'echo $$'`,
        SETUSER,
        f.user,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [outer, inner] = r.stdout.trim().split("\n");
      assert.equal(inner, outer);
    }),
});

Deno.test({
  name:
    "setuser passes the command's exit status and arguments through untouched",
  ignore,
  fn: () =>
    withUser(async (f) => {
      const exit = await f.run([SETUSER, f.user, "sh", "-c", "exit 42"]);
      assert.equal(exit.code, 42);
      const args = await f.run([
        SETUSER,
        f.user,
        "printf",
        "[%s]\\n",
        "a b",
        "",
        "  c  ",
        "*",
      ]);
      assert.equal(args.stdout, "[a b]\n[]\n[  c  ]\n[*]\n");
    }),
});

Deno.test({
  name: "setuser gives the command default SIGPIPE and no blocked signals",
  ignore,
  fn: () =>
    withUser(async (f) => {
      // The caller ignores SIGPIPE too: the reset is setuser's doing.
      const r = await f.run([
        "sh",
        "-c",
        `trap '' PIPE; exec "$0" "$1" cat /proc/self/status`,
        SETUSER,
        f.user,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const field = (name: string) =>
        BigInt(
          `0x${r.stdout.match(new RegExp(`^${name}:\\s*(\\w+)`, "m"))![1]}`,
        );
      assert.equal(field("SigIgn") & (1n << 12n), 0n, "SIGPIPE ignored");
      assert.equal(field("SigBlk"), 0n);
    }),
});

Deno.test({
  name: "setuser leaks no file descriptors and keeps the caller's",
  ignore,
  fn: () =>
    withUser(async (f) => {
      const listing = (prefix: string) =>
        f.run([
          "sh",
          "-c",
          `exec 7</dev/null; exec ${prefix} ls /proc/self/fd`,
          SETUSER,
          f.user,
        ]);
      const direct = await listing("");
      const through = await listing(`"$0" "$1"`);
      assert.equal(through.code, 0, through.stderr);
      assert.ok(through.stdout.split("\n").includes("7"));
      assert.deepEqual(through.stdout, direct.stdout);
    }),
});

Deno.test({
  name: "setuser --help prints the usage and exits 0",
  ignore,
  fn: async () => {
    const r = await setuser(["--help"]);
    assert.deepEqual(r, { code: 0, stdout: USAGE, stderr: "" });
  },
});

const USAGE_LINE = "Usage: setuser USER[:GROUP] COMMAND [ARGS...]\n" +
  "Try 'setuser --help'.\n";

Deno.test({
  name: "setuser without a command prints the usage line and exits 1",
  ignore,
  fn: async () => {
    assert.deepEqual(await setuser(["nobody"]), {
      code: 1,
      stdout: "",
      stderr: `setuser: fatal: missing command\n${USAGE_LINE}`,
    });
    assert.deepEqual(await setuser([]), {
      code: 1,
      stdout: "",
      stderr: `setuser: fatal: missing user\n${USAGE_LINE}`,
    });
  },
});

Deno.test({
  name: "setuser fails with 1 for an unknown user, uid or group",
  ignore,
  fn: async () => {
    assert.deepEqual(await setuser(["no-such-user-bi", "true"]), {
      code: 1,
      stdout: "",
      stderr:
        'setuser: fatal: unable to find user "no-such-user-bi": no such user\n',
    });
    assert.deepEqual(await setuser(["4294967290", "true"]), {
      code: 1,
      stdout: "",
      stderr:
        'setuser: fatal: unable to find user "4294967290": no such user\n',
    });
    assert.deepEqual(await setuser(["nobody:no-such-group-bi", "true"]), {
      code: 1,
      stdout: "",
      stderr:
        'setuser: fatal: unable to find group "no-such-group-bi": no such group\n',
    });
  },
});

Deno.test({
  name:
    "setuser exits 127 saying that the interpreter is missing when a script's #! names none",
  ignore,
  fn: async () => {
    const r = await runInSandbox([SETUSER, "nobody", "/opt/bad"], {
      files: { "/opt/bad": { text: "#!/nonexistent\nexit 0\n", mode: 0o755 } },
    });
    assert.equal(r.code, 127, r.stderr);
    assert.equal(
      r.stderr,
      'setuser: fatal: unable to run "/opt/bad": interpreter /nonexistent ' +
        "not found (the #! line of /opt/bad)\n",
    );
  },
});

Deno.test({
  name:
    "setuser exits 127 for a command not found and 126 for one not executable",
  ignore,
  fn: async () => {
    // A PATH the user can search: glibc's execvp reports EACCES, not ENOENT,
    // when a PATH directory is closed to the user (root's often are).
    const env = { PATH: "/usr/bin:/bin" };
    assert.deepEqual(await setuser(["nobody", "no-such-command-bi"], env), {
      code: 127,
      stdout: "",
      stderr:
        'setuser: fatal: unable to run "no-such-command-bi": No such file or directory (ENOENT)\n',
    });
    assert.deepEqual(await setuser(["nobody", "/etc/passwd"], env), {
      code: 126,
      stdout: "",
      stderr:
        'setuser: fatal: unable to run "/etc/passwd": Permission denied (EACCES)\n',
    });
  },
});

Deno.test({
  name:
    "setuser refuses another user when not root: non-root mode cannot switch users",
  ignore,
  fn: () =>
    withUser(async (f) => {
      const r = await f.run([SETUSER, f.user, SETUSER, "root", "id"]);
      assert.deepEqual(r, {
        code: 1,
        stdout: "",
        stderr:
          `setuser: fatal: non-root mode cannot switch users: running as uid ${f.uid}, asked for "root"\n`,
      });
      // Switching to oneself needs no privilege and changes nothing.
      const self = await f.run([SETUSER, f.user, SETUSER, f.user, "id", "-u"]);
      assert.equal(self.stdout.trim(), String(f.uid), self.stderr);
      // Unknown names fail as in root mode, and run nothing (before, an
      // unknown GROUP ran the command with the caller's group).
      assert.deepEqual(
        await f.run([
          SETUSER,
          f.user,
          SETUSER,
          `${f.user}:no-such-group-bi`,
          "id",
        ]),
        {
          code: 1,
          stdout: "",
          stderr:
            'setuser: fatal: unable to find group "no-such-group-bi": no such group\n',
        },
      );
      assert.deepEqual(
        await f.run([SETUSER, f.user, SETUSER, "no-such-user-bi", "id"]),
        {
          code: 1,
          stdout: "",
          stderr:
            'setuser: fatal: unable to find user "no-such-user-bi": no such user\n',
        },
      );
    }),
});

Deno.test({
  name: "setuser runs nothing when the privilege drop fails",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const marker = `${dir}/ran`;
    try {
      // A user namespace mapping only root: setgroups is denied there. On
      // the host (a chroot, as the sandbox is, may not create a user
      // namespace), with a user the host has: nothing is written but here.
      const r = await run("unshare", [
        "--user",
        "--map-root-user",
        SETUSER,
        "nobody",
        "touch",
        marker,
      ]);
      assert.deepEqual(r, {
        code: 1,
        stdout: "",
        stderr:
          'setuser: fatal: unable to set the groups of "nobody": Operation not permitted (EPERM)\n',
      });
      await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "setuser runs nothing when root can be taken back after the drop, and exits 1",
  ignore,
  fn: async () => {
    // SECBIT_NO_SETUID_FIXUP: setuid() from root keeps the capabilities
    // (CAP_SETUID among them), so every id reads the target's and yet
    // setuid(0) succeeds: only setuser's attempt to take root back sees it.
    // /shared is writable by anyone, so the command would leave its marker
    // even without the capabilities.
    const r = await runInSandbox([
      "setpriv",
      "--securebits",
      "+no_setuid_fixup",
      SETUSER,
      "nobody",
      "touch",
      "/shared/ran",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.ok(
      r.stderr.startsWith(
        'setuser: fatal: privilege drop to "nobody" incomplete: setuid(0) succeeded afterwards',
      ),
      r.stderr,
    );
    assert.equal(r.shared.ran, undefined, "the command ran");
  },
});

Deno.test({
  name: "setuser drops privileges without /proc mounted",
  ignore,
  fn: () =>
    withUser(async (f) => {
      // No /proc in the sandbox: the check falls back to the libc getters.
      const r = await f.run([SETUSER, f.user, "sh", "-c", "id -u; id -G"], {
        proc: false,
      });
      assert.equal(r.code, 0, r.stderr);
      const [uid, groups] = r.stdout.trim().split("\n");
      assert.equal(Number(uid), f.uid);
      assert.deepEqual(
        sorted(groups),
        [f.gid, f.extraGid].sort((a, b) => a - b),
      );
    }),
});
