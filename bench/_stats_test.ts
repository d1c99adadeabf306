import { deepStrictEqual } from "node:assert";
import { ratio, summarize } from "./_stats.ts";

Deno.test("summarize() takes the middle value of an odd sample", () => {
  deepStrictEqual(summarize([5, 1, 3]), { median: 3, min: 1, max: 5, n: 3 });
});

Deno.test("summarize() averages the two middle values of an even sample", () => {
  deepStrictEqual(summarize([4, 1, 2, 3]), {
    median: 2.5,
    min: 1,
    max: 4,
    n: 4,
  });
});

Deno.test("summarize() rejects an empty sample or a NaN", () => {
  deepStrictEqual(summarize([]), undefined);
  deepStrictEqual(summarize([1, NaN]), undefined);
});

Deno.test("ratio() divides medians and refuses a zero denominator", () => {
  const a = summarize([2])!;
  const b = summarize([4])!;
  deepStrictEqual(ratio(a, b), 0.5);
  deepStrictEqual(ratio(a, summarize([0])), undefined);
  deepStrictEqual(ratio(undefined, b), undefined);
});
