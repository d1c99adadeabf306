import assert from "node:assert/strict";
import {
  childOomScoreAdj,
  OOM_HEADROOM,
  parseMemoryLimit,
  parseVmRss,
} from "./oom.ts";

const MB = 1024 * 1024;

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
