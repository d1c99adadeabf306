/**
 * The container environment as children see it: /etc/container_environment
 * imported (odd files skipped with a warning), the environment given to the
 * container winning at start, the dumps written with their modes and group,
 * changes made by startup scripts seen by later steps, and nothing of the
 * launcher's runtime environment (DENO_DIR, DENO_DISABLE_NODE_SHIM,
 * BASEIMAGE_ENV_FD) leaking into children.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MY_INIT, runSandbox, script } from "./_sandbox.ts";
import { ignore, logLines, parseEnv0, withSandbox } from "./_my_init.ts";

const DIR = "/etc/container_environment";
const NEVER_EXPORTED = ["HOME", "USER", "GROUP", "UID", "GID", "SHELL"];

Deno.test({
  name:
    "my_init imports /etc/container_environment and skips odd files with a warning",
  ignore,
  async fn() {
    const r = await runSandbox({
      args: ["--skip-runit", "--", "env", "-0"],
      env: { GIVEN: "fromdocker" },
      files: {
        [`${DIR}/FOO`]: "bar\n",
        [`${DIR}/TWO_NL`]: "x\n\n",
        [`${DIR}/NO_NL`]: "plain",
        [`${DIR}/a.b`]: "dotted\n",
        [`${DIR}/GIVEN`]: "fromfile\n",
        [`${DIR}/A=B`]: "c\n",
        [`${DIR}/NULVAR`]: "a\0b\n",
        [`${DIR}/BADUTF`]: new Uint8Array([0x61, 0xff, 0xfe, 0x0a]),
        [`${DIR}/HUGE`]: "y".repeat(200 * 1024),
        // A startup script makes my_init re-import the directory (clearing
        // first): the results must be the same.
        "/etc/my_init.d/10_noop": script("true"),
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const env = parseEnv0(r.stdout);
    assert.equal(env.get("FOO"), "bar");
    assert.equal(
      env.get("TWO_NL"),
      "x\n",
      "only one trailing newline is dropped",
    );
    assert.equal(env.get("NO_NL"), "plain");
    assert.equal(env.get("a.b"), "dotted");
    assert.equal(env.get("GIVEN"), "fromdocker", "docker -e wins at start");
    assert.equal(env.has("A"), false);
    assert.equal(env.has("A=B"), false);
    assert.equal(env.has("NULVAR"), false);
    // Kept as the bytes it is (stdout is decoded here, lossily).
    assert.equal(env.get("BADUTF"), "a\ufffd\ufffd");
    assert.equal(env.has("HUGE"), false);

    const log = logLines(r.stderr);
    const warned = (file: string, reason: RegExp) =>
      assert.ok(
        log.some((l) =>
          l.startsWith(`Ignoring ${DIR}/${file}: `) && reason.test(l)
        ),
        `no warning for ${file} matching ${reason}:\n${r.stderr}`,
      );
    warned("A=B", /"="/);
    warned("NULVAR", /NUL byte/);
    warned("HUGE", /204800 bytes/);
    // The good files give no warning.
    for (const good of ["FOO", "TWO_NL", "NO_NL", "a.b", "GIVEN", "BADUTF"]) {
      assert.ok(
        !log.some((l) => l.includes(`${DIR}/${good}:`)),
        `unexpected warning about ${good}:\n${r.stderr}`,
      );
    }
  },
});

Deno.test({
  name:
    "my_init writes the environment into its 0700 directory and dumps 0640 for group 8377",
  ignore,
  async fn() {
    const main = [
      `stat -c '%a %g %n' ${DIR} ${DIR}.sh ${DIR}.json ${DIR}/FOO > /shared/stat`,
      `ls -A ${DIR} > /shared/ls`,
      `cp ${DIR}.sh /shared/dump.sh`,
      `cp ${DIR}.json /shared/dump.json`,
      "env -0 > /shared/env0",
    ].join("; ");
    const given: Record<string, string> = {
      FOO: "bar",
      QUOTE: "it's $HOME `x`",
      HOME: "/root",
      USER: "root",
      GROUP: "root",
      UID: "0",
      GID: "0",
      SHELL: "/bin/bash",
    };
    const r = await runSandbox({
      args: ["--skip-startup-files", "--skip-runit", "--", "sh", "-c", main],
      env: given,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.shared.stat.trim().split("\n"), [
      `700 0 ${DIR}`,
      `640 8377 ${DIR}.sh`,
      `640 8377 ${DIR}.json`,
      `600 0 ${DIR}/FOO`,
    ]);

    const json = JSON.parse(r.shared["dump.json"]);
    assert.equal(json.FOO, "bar");
    assert.equal(json.QUOTE, given.QUOTE);
    const files = r.shared.ls.trim().split("\n");
    assert.ok(files.includes("FOO"), r.shared.ls);
    // Sourcing the shell dump gives back the exact values.
    const sourced = await new Deno.Command("sh", {
      args: ["-c", `. "$1"; printf '%s' "$QUOTE"`, "sh", "/dev/stdin"],
      stdin: "piped",
      stdout: "piped",
      clearEnv: true,
      env: { PATH: "/usr/bin:/bin" },
    }).spawn();
    const w = sourced.stdin.getWriter();
    await w.write(new TextEncoder().encode(r.shared["dump.sh"]));
    await w.close();
    const so = await sourced.output();
    assert.equal(new TextDecoder().decode(so.stdout), given.QUOTE);

    // The user's own variables stay out of every export, yet the main
    // command still gets them.
    const env = parseEnv0(r.shared.env0);
    for (const name of NEVER_EXPORTED) {
      assert.equal(name in json, false, `${name} in the JSON dump`);
      assert.doesNotMatch(
        r.shared["dump.sh"],
        new RegExp(`^export ${name}=`, "m"),
        `${name} in the shell dump`,
      );
      assert.equal(files.includes(name), false, `${DIR}/${name} written`);
    }
    for (const name of ["HOME", "USER", "GROUP", "SHELL"]) {
      assert.equal(env.get(name), given[name], `${name} given to the command`);
    }
  },
});

Deno.test({
  name: "my_init lets startup scripts add and remove variables for later steps",
  ignore,
  async fn() {
    const show = (to: string) =>
      `echo "NEW=\${NEW-unset} OLD=\${OLD-unset}" > /shared/${to}`;
    const r = await runSandbox({
      args: [
        "--skip-runit",
        "--",
        "sh",
        "-c",
        `${show("main")}; cp ${DIR}.sh /shared/dump.sh`,
      ],
      files: {
        [`${DIR}/OLD`]: "old\n",
        "/etc/my_init.d/10_env": script(
          `${show("first")}\necho new > ${DIR}/NEW\nrm ${DIR}/OLD`,
        ),
        "/etc/my_init.d/20_check": script(show("second")),
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.shared.first, "NEW=unset OLD=old\n");
    assert.equal(r.shared.second, "NEW=new OLD=unset\n");
    assert.equal(r.shared.main, "NEW=new OLD=unset\n");
    assert.match(r.shared["dump.sh"], /^export NEW='new'$/m);
    assert.doesNotMatch(r.shared["dump.sh"], /^export OLD=/m);
  },
});

/** What the launcher gives the runtime (scripts/launcher.ts), and Deno's shim mark. */
const LAUNCHER_VARS = [
  "DENO_DIR",
  "DENO_DISABLE_NODE_SHIM",
  "DENO_NO_UPDATE_CHECK",
  "DENO_TOKIO_EVENT_INTERVAL",
  "NO_COLOR",
  "BASEIMAGE_ENV_FD",
  "DENO_NODE_SHIM_ACTIVE",
];
/** The sandbox's PATH (tests/ns/_sandbox.ts). */
const SANDBOX_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

Deno.test({
  name:
    "my_init leaks nothing of its runtime into scripts, services or the dumps, PATH included",
  ignore,
  async fn() {
    const { out, result } = await withSandbox(
      {
        args: [],
        files: {
          "/etc/my_init.d/10_env": script("env -0 > /shared/script"),
          "/etc/service/svc/run": script(
            `env -0 > /shared/service.new; mv /shared/service.new /shared/service
exec sleep 1000`,
          ),
          "/etc/my_init.pre_shutdown.d/10_dump": script(
            `cp ${DIR}.json /shared/dump.json; ls -A ${DIR} > /shared/ls`,
          ),
        },
      },
      async (box, done) => {
        const service = await box.waitFor("service", 20000);
        await box.kill("SIGTERM");
        await done;
        return {
          script: await box.read("script"),
          service,
          json: await box.read("dump.json"),
          ls: await box.read("ls"),
        };
      },
    );
    assert.equal(out.code, 0, out.stderr);
    for (
      const [who, text] of [["script", result.script], [
        "service",
        result.service,
      ]]
    ) {
      const env = parseEnv0(text);
      // No node_compat_bin of the runtime's in front (Deno >= 2.9.0).
      assert.equal(env.get("PATH"), SANDBOX_PATH, `${who} env read: ${text}`);
      for (const v of LAUNCHER_VARS) {
        assert.equal(env.has(v), false, `${v} leaked into the ${who}`);
      }
    }
    const json = JSON.parse(result.json);
    const files = result.ls.split("\n");
    for (const v of LAUNCHER_VARS) {
      assert.equal(v in json, false, `${v} in the JSON dump`);
      assert.equal(files.includes(v), false, `${DIR}/${v} written`);
    }
  },
});

Deno.test({
  name:
    "my_init boots with the runtime's own variables set by the user, and passes them on unchanged",
  ignore,
  async fn() {
    // Each of these would configure the runtime of PID 1 if it saw them:
    // a V8 flag it rejects (exit 1 before any code), coverage files written
    // at every exit, Rust's trace log on stderr, an inspector, telemetry.
    const given = {
      DENO_V8_FLAGS: "--no-such-flag",
      DENO_COVERAGE_DIR: "/tmp/cov",
      RUST_LOG: "trace",
      DENO_DIR: "/custom/deno dir",
      NO_COLOR: "",
      OTEL_DENO: "true",
      DENO_UNSTABLE_CONTROL_SOCK: "unix:/tmp/control.sock",
      DENO_DISABLE_NODE_SHIM: "0",
      // A panic before any code, a file truncated and rewritten, and all of
      // PID 1's output swallowed (measured on 2.9.6).
      DENO_TOKIO_EVENT_INTERVAL: "abc",
      DENO_AUDIT_PERMISSIONS: "/tmp/cov",
      OTEL_DENO_CONSOLE: "replace",
    };
    const r = await runSandbox({
      args: [
        "--skip-startup-files",
        "--skip-runit",
        "--",
        "sh",
        "-c",
        "env -0; command -v node > /shared/node; if [ -e /tmp/cov ]; then echo written > /shared/cov; fi",
      ],
      env: given,
    });
    assert.equal(r.code, 0, r.stderr);
    const env = parseEnv0(r.stdout);
    for (const [name, value] of Object.entries(given)) {
      assert.equal(env.get(name), value, name);
    }
    assert.equal(env.get("PATH"), SANDBOX_PATH);
    assert.equal(env.has("DENO_NODE_SHIM_ACTIVE"), false);
    assert.doesNotMatch(r.shared.node ?? "", /node_compat_bin/);
    assert.equal(r.shared.cov, undefined, "the runtime wrote /tmp/cov");
    // my_init's own lines, and no Rust trace lines.
    assert.match(r.stderr, /^\*\*\* Running sh -c /m);
    for (const line of r.stderr.split("\n").filter(Boolean)) {
      assert.match(line, /^\*\*\* /, r.stderr);
    }
  },
});

Deno.test({
  name:
    "my_init passes names and values that are not UTF-8 to the main command byte-exact, across startup scripts",
  ignore,
  async fn() {
    // A JS string cannot hold these bytes: the sandbox's PID 1 is a shell
    // that sets them and execs my_init. The main command is od itself (dash
    // would not pass a name that is not UTF-8 on).
    const r = await runSandbox({
      command: [
        "sh",
        "-c",
        `exec env "LATIN=$(printf 'caf\\351')" "$(printf 'N\\377')=x" ${MY_INIT} --skip-runit -- od -An -v -tx1 /proc/self/environ`,
      ],
      files: { "/etc/my_init.d/10_noop": script("true") },
    });
    assert.equal(r.code, 0, r.stderr);
    const bytes = new Uint8Array(
      r.stdout.trim().split(/\s+/).map((h) => parseInt(h, 16)),
    );
    const entries = splitNul(bytes);
    const has = (want: number[]) =>
      entries.some((e) =>
        e.length === want.length && e.every((b, i) => b === want[i])
      );
    assert.ok(has([...ascii("LATIN=caf"), 0xe9]), "LATIN=caf\\351 missing");
    assert.ok(has([0x4e, 0xff, ...ascii("=x")]), "N\\377=x missing");
  },
});

function ascii(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

function splitNul(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

Deno.test({
  name:
    "my_init keeps a value's trailing newlines across the re-import after each startup script",
  ignore,
  async fn() {
    // The start export writes each variable to the directory and every
    // startup script triggers a re-import that drops one trailing newline:
    // the export must compensate, or values shrink by one newline per script.
    const r = await runSandbox({
      args: ["--skip-runit", "--", "env", "-0"],
      env: { NL: "a\n", NL2: "b\n\n", PLAIN: "c" },
      files: {
        "/etc/my_init.d/10_x": script("true"),
        "/etc/my_init.d/20_y": script("true"),
        "/etc/my_init.d/30_z": script("true"),
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const env = parseEnv0(r.stdout);
    assert.equal(env.get("NL"), "a\n");
    assert.equal(env.get("NL2"), "b\n\n");
    assert.equal(env.get("PLAIN"), "c");
  },
});

Deno.test({
  name:
    "my_init names the real cause for a file in /etc/container_environment whose name is not UTF-8",
  ignore,
  async fn() {
    // The runtime lists such a name with U+FFFD for the bad byte, and no
    // file has that name: "No such file or directory" was the warning.
    const r = await runSandbox({
      command: [
        "bash",
        "-c",
        `printf x > /etc/container_environment/$'caf\\xe9'; exec ${MY_INIT} --skip-runit -- true`,
      ],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      logLines(r.stderr).includes(
        "Ignoring /etc/container_environment/caf\uFFFD: the file name is " +
          "not UTF-8 (shown with U+FFFD for its bad bytes), which a " +
          "variable's name must be here: rename the file",
      ),
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /No such file/);
  },
});

Deno.test({
  name:
    "my_init writes a value that ends in a newline with one more, so that it reads back the same",
  ignore,
  async fn() {
    // README, "Environment variables": reading drops one trailing newline
    // (phusion's rule), so `-e X=$'a\n'` is written as "a\n\n".
    const r = await runSandbox({
      args: [
        "--skip-runit",
        "--",
        "sh",
        "-c",
        "od -An -c /etc/container_environment/NL | tr -s ' ' > /shared/file; " +
        'printf %s "$NL" | od -An -c | tr -s " " > /shared/value',
      ],
      env: { NL: "a\n", PLAIN: "c" },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.shared.file, " a \\n \\n\n");
    assert.equal(r.shared.value, " a \\n\n");
  },
});

Deno.test({
  name:
    "my_init on a read-only /etc re-reads /run/container_environment after each startup script",
  ignore,
  async fn() {
    const r = await runSandbox({
      // /etc read-only from before my_init starts, my_init still PID 1.
      command: [
        "/bin/sh",
        "-c",
        'mount --bind /etc /etc && mount -o remount,bind,ro /etc && exec "$0" "$@"',
        MY_INIT,
        "--skip-runit",
        "--",
        "env",
        "-0",
      ],
      env: { GIVEN: "fromdocker", GONE: "removed by the script" },
      files: {
        // The README's script for either root ("Read-only root").
        "/etc/my_init.d/10_set": script(
          'dir=/etc/container_environment\n[ -w "$dir" ] || dir=/run/container_environment\n' +
            'printf added >"$dir/ADDED"\nrm "$dir/GONE"',
        ),
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /read-only file system: writing \/run\/container_environment, /,
    );
    const env = parseEnv0(r.stdout);
    assert.equal(env.get("ADDED"), "added", "set by the script");
    assert.equal(env.has("GONE"), false, "removed by the script");
    assert.equal(env.get("GIVEN"), "fromdocker");
  },
});
