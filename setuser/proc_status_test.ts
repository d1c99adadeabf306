import assert from "node:assert/strict";
import { parseProcStatus } from "./proc_status.ts";

const STATUS = [
  "Name:\tcat",
  "Umask:\t0022",
  "State:\tR (running)",
  "Uid:\t1001\t1001\t1001\t1001",
  "Gid:\t1002\t1002\t1002\t1002",
  "FDSize:\t64",
  "Groups:\t27 1002 ",
  "NStgid:\t42",
  "",
].join("\n");

Deno.test("parseProcStatus() reads real, effective, saved and fs ids and groups", () => {
  assert.deepEqual(parseProcStatus(STATUS), {
    uid: 1001,
    euid: 1001,
    suid: 1001,
    fsuid: 1001,
    gid: 1002,
    egid: 1002,
    sgid: 1002,
    fsgid: 1002,
    groups: [27, 1002],
  });
});

Deno.test("parseProcStatus() reads an empty Groups line as no groups", () => {
  const root = STATUS.replace(/^Uid:.*$/m, "Uid:\t0\t0\t0\t0")
    .replace(/^Groups:.*$/m, "Groups:\t");
  assert.deepEqual(parseProcStatus(root)?.groups, []);
  assert.equal(parseProcStatus(root)?.suid, 0);
});

Deno.test("parseProcStatus() returns undefined without usable Uid, Gid, Groups", () => {
  assert.equal(parseProcStatus(""), undefined);
  assert.equal(parseProcStatus(STATUS.replace(/^Groups:.*\n/m, "")), undefined);
  assert.equal(
    parseProcStatus(STATUS.replace("Uid:\t1001", "Uid:\tx")),
    undefined,
  );
  assert.equal(
    parseProcStatus(STATUS.replace("\t1001\t1001\t1001\t1001", "\t1")),
    undefined,
  );
});
