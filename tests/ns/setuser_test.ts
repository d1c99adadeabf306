/**
 * setuser, run as built (dist/setuser) by root on the host, against users
 * and groups each test creates and removes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { USAGE } from "../../setuser/cli.ts";

// BASEIMAGE_DIST: test another build of the tools (e.g. a rootfs) than dist/.
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

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")}: ${r.code} ${r.stderr}`);
  }
  return r.stdout.trim();
}

function setuser(
  args: string[],
  env?: Record<string, string>,
): Promise<Result> {
  return run(SETUSER, args, env);
}

/** A user with a login group and one supplementary group, all new. */
interface Fixture {
  user: string;
  uid: number;
  primary: string;
  gid: number;
  extra: string;
  extraGid: number;
}

async function withUser(fn: (f: Fixture) => Promise<void>): Promise<void> {
  const tag = `${Deno.pid.toString(36)}${
    Math.floor(Math.random() * 1e6).toString(36)
  }`;
  const user = `bisu${tag}`, primary = `bisp${tag}`, extra = `bise${tag}`;
  try {
    await must("groupadd", [primary]);
    await must("groupadd", [extra]);
    await must("useradd", [
      "-M",
      "-d",
      `/home/${user}`,
      "-s",
      "/bin/sh",
      "-g",
      primary,
      "-G",
      extra,
      user,
    ]);
    await fn({
      user,
      uid: Number(await must("id", ["-u", user])),
      primary,
      gid: Number(
        await must("getent", ["group", primary]).then((l) => l.split(":")[2]),
      ),
      extra,
      extraGid: Number(
        await must("getent", ["group", extra]).then((l) => l.split(":")[2]),
      ),
    });
  } finally {
    await run("userdel", [user]);
    await run("groupdel", [extra]);
    await run("groupdel", [primary]);
  }
}

function sorted(ids: string): number[] {
  return ids.split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
}

Deno.test({
  name: "setuser drops to the user's uid, gid and groups",
  ignore,
  fn: () =>
    withUser(async (f) => {
      const r = await setuser([
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
      const byUid = await setuser([String(f.uid), "id", "-un"]);
      assert.equal(byUid.stdout.trim(), f.user, byUid.stderr);
      for (const group of [f.extra, String(f.extraGid)]) {
        const r = await setuser([
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
      const r = await setuser([f.user, "env"], {
        KEEP_ME: "a value with spaces",
        HOME: "/root",
        USER: "root",
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
      const r = await run("sh", [
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
      const exit = await setuser([f.user, "sh", "-c", "exit 42"]);
      assert.equal(exit.code, 42);
      const args = await setuser([
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
      const r = await run("sh", [
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
        run("sh", [
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

const USAGE_LINE = "Usage: setuser USER[:GROUP] COMMAND [ARGS...]\n";

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
  name: "setuser refuses another user when not root",
  ignore,
  fn: () =>
    withUser(async (f) => {
      const r = await setuser([f.user, SETUSER, "root", "id"]);
      assert.deepEqual(r, {
        code: 1,
        stdout: "",
        stderr:
          `setuser: fatal: unable to switch to user "root": not running as root (uid ${f.uid})\n`,
      });
      // Switching to oneself needs no privilege and changes nothing.
      const self = await setuser([f.user, SETUSER, f.user, "id", "-u"]);
      assert.equal(self.stdout.trim(), String(f.uid), self.stderr);
    }),
});

Deno.test({
  name: "setuser runs nothing when the privilege drop fails",
  ignore,
  fn: () =>
    withUser(async (f) => {
      const marker = await Deno.makeTempFile();
      await Deno.remove(marker);
      try {
        // A user namespace mapping only root: setgroups is denied there.
        const r = await run("unshare", [
          "--user",
          "--map-root-user",
          SETUSER,
          f.user,
          "touch",
          marker,
        ]);
        assert.deepEqual(r, {
          code: 1,
          stdout: "",
          stderr:
            `setuser: fatal: unable to set the groups of "${f.user}": Operation not permitted (EPERM)\n`,
        });
        await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
      } finally {
        await Deno.remove(marker).catch(() => {});
      }
    }),
});

Deno.test({
  name: "setuser drops privileges without /proc mounted",
  ignore,
  fn: () =>
    withUser(async (f) => {
      // A tmpfs hides /proc: the check falls back to the libc getters.
      const r = await run("/usr/bin/unshare", [
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs tmpfs /proc && exec "$0" "$1" sh -c "id -u; id -G"',
        SETUSER,
        f.user,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [uid, groups] = r.stdout.trim().split("\n");
      assert.equal(Number(uid), f.uid);
      assert.deepEqual(
        sorted(groups),
        [f.gid, f.extraGid].sort((a, b) => a - b),
      );
    }),
});
