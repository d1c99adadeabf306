/**
 * Node's `util.parseArgs`, from its npm package @pkgjs/parseargs (the
 * reference implementation that Node took it from, pinned in deno.json)
 * instead of `node:util`. Why: importing `node:util` makes the runtime
 * evaluate its Node compatibility layer for `util`, 38 M instructions on
 * Deno 2.9.6 (~17 ms of a one-shot my_init on a slow day), the largest
 * part of what my_init adds to the bare runtime when given options. The
 * package costs 18 M (~10 ms that day, most of it its primordials), parses
 * the same way and throws the same errors. The type is node:util's (a
 * type-only import costs nothing at run time).
 *
 * @module
 */

import type { parseArgs as nodeParseArgs } from "node:util";
import { parseArgs } from "@pkgjs/parseargs";

/** `util.parseArgs` of Node. */
export const parseOptions: typeof nodeParseArgs = parseArgs;
