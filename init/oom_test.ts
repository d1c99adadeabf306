import assert from "node:assert/strict";
import {
  childOomScoreAdj,
  OOM_HEADROOM,
  parseMemoryLimit,
  parseVmRss,
  spawnRankedBelow,
} from "./oom.ts";

const MB = 1024 * 1024;
const isRoot = Deno.uid() === 0;

function oomScoreAdj(pid: number | "self"): number {
  return Number(Deno.readTextFileSync(`/proc/${pid}/oom_score_adj`));
}

/** Starts a `sleep` for spawnRankedBelow() to rank: its pid and a stopper. */
function sleeper(): { pid: number; stop: () => Promise<unknown> } {
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  return {
    pid: child.pid,
    stop: () => (child.kill("SIGKILL"), child.status),
  };
}

/**
 * Runs `code` in a new Deno inside its own mount namespace, after `shell`
 * (which may mount over /sys or /proc there), with ./oom.ts imported as
 * `oom` and ./log.ts as `log`; its stdout and stderr.
 */
async function inMountNs(
  shell: string,
  code: string,
): Promise<{ stdout: string; stderr: string }> {
  const lib = (name: string) => new URL(name, import.meta.url).href;
  const script = [
    `import * as oom from ${JSON.stringify(lib("./oom.ts"))};`,
    `import * as log from ${JSON.stringify(lib("./log.ts"))};`,
    "const sleeper = () => new Deno.Command('sleep', { args: ['30'] }).spawn();",
    code,
  ].join("\n");
  const out = await new Deno.Command("unshare", {
    args: [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-ec",
      `${shell}; exec "$DENO" eval --no-lock "$CODE"`,
    ],
    env: { DENO: Deno.execPath(), CODE: script, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return { stdout: new TextDecoder().decode(out.stdout), stderr };
}

Deno.test("childOomScoreAdj() outranks PID 1 within the limit by the smallest step", () => {
  // 40 MB PID 1 in a 64 MB container: 2 * 40/64 of 1000 = 1250 -> capped.
  assert.equal(childOomScoreAdj(0, 40 * MB, 64 * MB), 1000);
  // 40 MB under 1 GiB: 2 * 40/1024 * 1000 = 78.1 -> 79.
  assert.equal(childOomScoreAdj(0, 40 * MB, 1024 * MB), 79);
  // Kubernetes Guaranteed pods run at -997: children stay well protected.
  assert.equal(childOomScoreAdj(-997, 40 * MB, 1024 * MB), -918);
  // 24 GiB machine, no limit: a shift of 4.
  assert.equal(childOomScoreAdj(0, 40 * MB, 24 * 1024 * MB), 4);
});

Deno.test("childOomScoreAdj() makes a child of no pages count more than PID 1", () => {
  // The kernel's badness: pages + adj * totalpages / 1000.
  for (
    const [own, rss, limit] of [[0, 40, 64], [0, 40, 1024], [-500, 10, 100]]
  ) {
    const adj = childOomScoreAdj(own, rss * MB, limit * MB);
    const pid1 = OOM_HEADROOM * rss * MB + own * limit * MB / 1000;
    const child = 0 + adj * limit * MB / 1000;
    if (adj < 1000) assert.ok(child > pid1, `${own} ${rss} ${limit}: ${adj}`);
  }
});

Deno.test("childOomScoreAdj() never lowers a score, nor passes 1000", () => {
  assert.equal(childOomScoreAdj(1000, 40 * MB, 64 * MB), 1000);
  assert.equal(childOomScoreAdj(990, 40 * MB, 1024 * MB), 1000);
  assert.equal(childOomScoreAdj(300, 0, 1024 * MB), 301);
  assert.equal(childOomScoreAdj(5, 40 * MB, 0), 5);
  assert.equal(childOomScoreAdj(5, NaN, 64 * MB), 5);
});

Deno.test("parseMemoryLimit() takes the cgroup's limit, else the machine's memory", () => {
  const meminfo = "MemTotal:       24000000 kB\nMemFree: 1 kB\n";
  assert.equal(parseMemoryLimit("67108864\n", meminfo), 64 * MB);
  assert.equal(parseMemoryLimit("max\n", meminfo), 24000000 * 1024);
  // cgroup v1's "unlimited"
  assert.equal(
    parseMemoryLimit("9223372036854771712\n", meminfo),
    24000000 * 1024,
  );
  assert.equal(parseMemoryLimit(undefined, meminfo), 24000000 * 1024);
  assert.equal(parseMemoryLimit("67108864", undefined), 64 * MB);
  assert.equal(parseMemoryLimit("junk", undefined), undefined);
});

Deno.test("parseVmRss() reads VmRSS in bytes", () => {
  assert.equal(
    parseVmRss("Name:\tdeno\nVmRSS:\t   38000 kB\nRssAnon: 1 kB\n"),
    38000 * 1024,
  );
  assert.equal(parseVmRss("Name:\tdeno\n"), undefined);
});

Deno.test("parseMemoryLimit() takes a limit of 0 for none, the machine's memory", () => {
  const meminfo = "MemTotal:       24000000 kB\n";
  assert.equal(parseMemoryLimit("0\n", meminfo), 24000000 * 1024);
});

Deno.test("parseMemoryLimit() and parseVmRss() read only a whole line of their field", () => {
  assert.equal(parseMemoryLimit(undefined, "XMemTotal: 1 kB\n"), undefined);
  assert.equal(parseMemoryLimit(undefined, "MemTotal: 1 kB 2\n"), undefined);
  assert.equal(parseVmRss("XVmRSS:\t1 kB\n"), undefined);
  assert.equal(parseVmRss("VmRSS:\t1 kB 2\n"), undefined);
});

/**
 * spawnRankedBelow() of a sleeper with `options`: its pid, my score as the
 * spawn saw it, and the sleeper to stop.
 */
function spawnObserved(options: { inherit?: boolean }) {
  let during: number | undefined;
  let child: ReturnType<typeof sleeper> | undefined;
  const pid = spawnRankedBelow(() => {
    during = oomScoreAdj("self");
    child = sleeper();
    return child.pid;
  }, options);
  assert.ok(during !== undefined && child !== undefined, "no spawn");
  return { pid, during, child };
}

Deno.test("spawnRankedBelow() gives the child its score after the spawn, mine untouched", async () => {
  const own = oomScoreAdj("self");
  const { pid, during, child } = spawnObserved({});
  try {
    assert.equal(pid, child?.pid);
    assert.equal(during, own);
    const adj = oomScoreAdj(pid);
    assert.ok(adj > own && adj <= 1000, `${own} -> ${adj}`);
    assert.equal(oomScoreAdj("self"), own);
  } finally {
    await child.stop();
  }
});

Deno.test("spawnRankedBelow() with inherit raises my score for the spawn only, every time", async () => {
  const own = oomScoreAdj("self");
  for (let i = 0; i < 2; i++) {
    const { pid, during, child } = spawnObserved({ inherit: true });
    try {
      assert.ok(during > own && during <= 1000, `${own} -> ${during}`);
      assert.equal(oomScoreAdj(pid), during, "the child's, inherited");
      assert.equal(oomScoreAdj("self"), own);
    } finally {
      await child.stop();
    }
  }
});

Deno.test({
  name:
    "spawnRankedBelow() ranks by the cgroup's memory limit, v2 or v1, else by the machine's memory",
  ignore: !isRoot,
  fn: async () => {
    // 16 MiB: twice any Deno's resident size is more; the shift is capped.
    const cgroup = "mount -t tmpfs none /sys/fs/cgroup";
    const code = `const c = sleeper();
      oom.spawnRankedBelow(() => c.pid);
      console.log(Deno.readTextFileSync(\`/proc/\${c.pid}/oom_score_adj\`).trim());
      c.kill("SIGKILL");`;
    const v2 = await inMountNs(
      `${cgroup}; echo ${16 * MB} > /sys/fs/cgroup/memory.max`,
      code,
    );
    assert.equal(v2.stdout, "1000\n");
    const v1 = await inMountNs(
      `${cgroup}; mkdir /sys/fs/cgroup/memory; ` +
        `echo ${16 * MB} > /sys/fs/cgroup/memory/memory.limit_in_bytes`,
      code,
    );
    assert.equal(v1.stdout, "1000\n");
    const own = oomScoreAdj("self");
    const none = await inMountNs(
      `${cgroup}; echo max > /sys/fs/cgroup/memory.max`,
      code,
    );
    const adj = Number(none.stdout);
    assert.ok(adj > own && adj < 1000, `${own} -> ${adj}`);
  },
});

Deno.test({
  name:
    "spawnRankedBelow() that cannot lower my score back says so once, then ranks children after their spawn",
  ignore: !isRoot,
  fn: async () => {
    // The spawn mounts a read-only file over this process's
    // oom_score_adj: raising it worked, lowering it back fails.
    const { stdout, stderr } = await inMountNs(
      "echo 0 > /tmp/oom_test_adj.$$",
      `log.setLogLevel(log.LogLevel.debug);
      const self = \`/proc/\${Deno.pid}/oom_score_adj\`;
      const ranked = [];
      for (const first of [true, false]) {
        let c;
        oom.spawnRankedBelow(() => {
          if (first) {
            const mount = new Deno.Command("mount", {
              args: ["--bind", "-o", "ro", \`/tmp/oom_test_adj.\${Deno.pid}\`, self],
            }).outputSync();
            if (!mount.success) throw new Error("mount failed");
          }
          c = sleeper();
          return c.pid;
        }, { inherit: true });
        const child = Deno.readTextFileSync(\`/proc/\${c.pid}/oom_score_adj\`);
        ranked.push(Number(child));
        c.kill("SIGKILL");
      }
      Deno.removeSync(\`/tmp/oom_test_adj.\${Deno.pid}\`);
      console.log(JSON.stringify(ranked));`,
    );
    // Both children ranked: the first by inheriting the raised score,
    // the second by a write after its spawn, with no second attempt to
    // raise mine (no second debug line).
    const [first, second] = JSON.parse(stdout);
    assert.ok(first > 0 && second > 0, stdout);
    const lines = stderr.split("\n").filter((l) => l.startsWith("*** "));
    assert.equal(lines.length, 2, stderr);
    assert.match(
      lines[0],
      /^\*\*\* Cannot write \/proc\/self\/oom_score_adj: ./,
    );
    assert.equal(
      lines[1],
      `*** Cannot lower my OOM score back to 0: it stays ${first}, as my children's`,
    );
  },
});
