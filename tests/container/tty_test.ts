/**
 * `docker run -it`: the container's console is a terminal, and its
 * foreground process group is PID 1's. Ctrl-C must start the same ordered
 * shutdown as `docker stop` (not kill runsvdir and syslog-ng directly), and
 * a main command that leaves the terminal with `stty tostop` must not make
 * my_init spin when it writes after it.
 *
 * The engine runs under script(1), which gives it a terminal; the test
 * types into that terminal.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  Container,
  ENGINE,
  readEvents,
  tempDir,
  TEST_IMAGE,
  uniqueName,
  waitFor,
} from "./_engine.ts";

/** `ENGINE run -it ARGS` under script(1); write() types into its terminal. */
function runInTerminal(args: string[]) {
  const name = uniqueName("tty");
  const command = [
    ENGINE,
    "run",
    "-it",
    "--name",
    name,
    "--pull=never",
    ...args,
  ]
    .map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qefc", command, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const output = child.output();
  return {
    container: new Container(name),
    type: (text: string) => writer.write(new TextEncoder().encode(text)),
    /** The engine's exit status, or "hung" when it is still running after `ms`. */
    async finish(ms: number): Promise<number | "hung"> {
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited meanwhile */ }
      }, ms);
      const out = await output;
      clearTimeout(timer);
      await writer.close().catch(() => {});
      return out.signal === "SIGKILL" ? "hung" : out.code;
    },
    /** What the terminal showed. */
    async screen(): Promise<string> {
      return new TextDecoder().decode((await output).stdout);
    },
  };
}

Deno.test("tty: Ctrl-C in daemon mode stops the services in order and exits 0", async () => {
  const markers = await tempDir();
  const run = runInTerminal([
    "--network=none",
    "-v",
    `${markers.path}:/markers`,
    TEST_IMAGE,
  ]);
  try {
    const events = () => readEvents(`${markers.path}/events`);
    assert.ok(
      await waitFor(
        async () => (await events()).includes("demo-svc run"),
        30_000,
      ),
      "the demo service never ran",
    );
    await run.container.waitUntilUp();
    await run.type("\x03");
    const code = await run.finish(30_000);
    assert.equal(code, 0, await run.screen());
    const all = await events();
    const at = (e: string) => all.indexOf(e);
    assert.ok(at("pre-shutdown") >= 0, JSON.stringify(all));
    assert.ok(at("pre-shutdown") < at("demo-svc term"), JSON.stringify(all));
    assert.ok(at("demo-svc term") < at("post-shutdown"), JSON.stringify(all));
    const logs = await run.container.logs();
    assert.match(logs, /Received SIGINT; shutting down/);
    // syslog-ng outlived the services: the service's last words are there.
    assert.match(logs, /demo-svc: demo-svc stopping/);
  } finally {
    await run.finish(1_000);
    await run.container.remove();
    await markers.cleanup();
  }
});

Deno.test("tty: a main command that sets stty tostop leaves my_init exiting promptly with its code", async () => {
  const run = runInTerminal([
    "--network=none",
    TEST_IMAGE,
    "/sbin/my_init",
    "--skip-runit",
    "--",
    "sh",
    "-c",
    "stty tostop; exit 3",
  ]);
  try {
    assert.equal(await run.finish(30_000), 3);
    assert.match(await run.container.logs(), /sh exited with status 3\./);
  } finally {
    await run.container.remove();
  }
});

Deno.test("tty: after Ctrl-Z stops the main command, Ctrl-C shuts down and gives its exit code", async () => {
  // The main command catches INT: only an INT it can act on ends it. A
  // stopped group that kept the terminal would swallow Ctrl-C until the
  // engine killed the container.
  const run = runInTerminal([
    "--network=none",
    TEST_IMAGE,
    "/sbin/my_init",
    "--skip-startup-files",
    "--skip-runit",
    "--",
    "bash",
    "-c",
    "trap 'exit 5' INT; while :; do sleep 0.1; done",
  ]);
  try {
    const logged = (text: string) =>
      waitFor(async () => (await run.container.logs()).includes(text), 30_000);
    assert.ok(await logged("*** Running bash"), await run.container.logs());
    await run.type("\x1a");
    // Ctrl-C only once my_init says it has the terminal (or gave up waiting).
    const tookIt = await logged(
      "*** bash was stopped by SIGTSTP; my_init has the terminal back",
    );
    await run.type("\x03");
    assert.equal(await run.finish(30_000), 5, await run.screen());
    assert.ok(tookIt, await run.container.logs());
    assert.match(await run.container.logs(), /Received SIGINT; shutting down/);
  } finally {
    await run.finish(1_000);
    await run.container.remove();
  }
});
