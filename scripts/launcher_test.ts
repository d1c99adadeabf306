import assert from "node:assert/strict";
import { launcherScript } from "./launcher.ts";

const paths = {
  deno: "/opt/x/deno",
  bundle: "/opt/x/t.js",
  cache: "/opt/x/cache",
};

async function runLauncher(env: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    // A stand-in runtime that prints what the launcher handed it.
    const fake = `${dir}/deno`;
    await Deno.writeTextFile(
      fake,
      '#!/bin/sh\necho "DENO_DIR=$DENO_DIR MARK=$BASEIMAGE_CALLER_DENO_DIR ARGS=$*"\n',
    );
    await Deno.chmod(fake, 0o755);
    const script = `${dir}/tool`;
    await Deno.writeTextFile(
      script,
      launcherScript("tool", { ...paths, deno: fake }),
    );
    await Deno.chmod(script, 0o755);
    const out = await new Deno.Command(script, {
      args: ["a b", "c"],
      env: { PATH: "/usr/bin:/bin", ...env },
      clearEnv: true,
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("launcherScript() records an unset DENO_DIR as 'unset'", async () => {
  const out = await runLauncher({});
  assert.match(
    out,
    /^DENO_DIR=\/opt\/x\/cache MARK=unset ARGS=run .* \/opt\/x\/t\.js a b c$/,
  );
});

Deno.test("launcherScript() records the caller's DENO_DIR, even empty", async () => {
  assert.match(await runLauncher({ DENO_DIR: "/data" }), /MARK=set:\/data /);
  assert.match(await runLauncher({ DENO_DIR: "" }), /MARK=set: /);
});
