/**
 * Node's `util.parseArgs`, from its npm package @pkgjs/parseargs (the
 * reference implementation that Node took it from, pinned in deno.json)
 * instead of `node:util`. Why: importing `node:util` makes the runtime
 * evaluate its whole Node compatibility layer for `util`: ~8 ms of a
 * one-shot my_init start measured on Deno 2.9.6, a third of what my_init
 * adds to the bare runtime. The package costs ~3 ms (its primordials),
 * parses the same way and throws the same errors. The type is node:util's
 * (a type-only import costs nothing at run time).
 *
 * @module
 */

import type { parseArgs as nodeParseArgs } from "node:util";
import { parseArgs } from "@pkgjs/parseargs";

/** `util.parseArgs` of Node. */
export const parseOptions: typeof nodeParseArgs = parseArgs;
