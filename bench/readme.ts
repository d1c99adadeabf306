/**
 * Rewrites the benchmark block of README.md (between its
 * `<!-- bench:targets:begin -->` and `<!-- bench:targets:end -->` lines)
 * from a harness run's JSON: `make bench` does it after a full run; this
 * does it by hand.
 *
 *   deno run -A bench/readme.ts [RESULTS.json]   (default bench/results/latest.json)
 *
 * Exit codes: 0 rewritten (or already current), 1 the results or the
 * markers could not be read.
 *
 * @module
 */

import { relative, resolve } from "node:path";
import type { Results } from "./_report.ts";
import { updateReadme } from "./_readme.ts";

if (import.meta.main) {
  const file = resolve(Deno.args[0] ?? "bench/results/latest.json");
  try {
    const results = JSON.parse(Deno.readTextFileSync(file)) as Results;
    // latest.json names the run it copies: cite that file, which stays.
    const source = typeof results.file === "string"
      ? results.file
      : relative(Deno.cwd(), file);
    await updateReadme("README.md", results, source);
    console.error(
      `bench: README.md's benchmark block rewritten from ${source}`,
    );
  } catch (e) {
    console.error(
      `bench: fatal: cannot rewrite README.md from ${file}: ${
        e instanceof Error ? e.message : e
      }`,
    );
    Deno.exit(1);
  }
}
