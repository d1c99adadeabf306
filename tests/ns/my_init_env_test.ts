/**
 * The container environment as children see it: /etc/container_environment
 * imported (odd files skipped with a warning), the environment given to the
 * container winning at start, the dumps written with their modes and group,
 * changes made by startup scripts seen by later steps, and nothing of the
 * launcher (DENO_DIR, BASEIMAGE_CALLER_DENO_DIR) leaking into children.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runSandbox, script } from "./_sandbox.ts";
import { ignore, logLines, parseEnv0, withSandbox } from "./my_init_helpers.ts";

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
    assert.equal(env.has("BADUTF"), false);
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
    warned("BADUTF", /UTF-8/);
    warned("HUGE", /204800 bytes/);
    // The good files give no warning.
    for (const good of ["FOO", "TWO_NL", "NO_NL", "a.b", "GIVEN"]) {
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

const LAUNCHER_VARS = ["DENO_DIR", "BASEIMAGE_CALLER_DENO_DIR"];

Deno.test({
  name:
    "my_init leaks no DENO_DIR into scripts, services, the main command or the dumps",
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
      assert.ok(env.has("PATH"), `${who} env read: ${text}`);
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
  name: "my_init passes a DENO_DIR given by the caller through unchanged",
  ignore,
  async fn() {
    for (const value of ["/custom/deno dir", ""]) {
      const r = await runSandbox({
        args: ["--skip-startup-files", "--skip-runit", "--", "env", "-0"],
        env: { DENO_DIR: value },
      });
      assert.equal(r.code, 0, r.stderr);
      const env = parseEnv0(r.stdout);
      assert.equal(env.get("DENO_DIR"), value, JSON.stringify(value));
      assert.equal(env.has("BASEIMAGE_CALLER_DENO_DIR"), false);
    }
  },
});

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
