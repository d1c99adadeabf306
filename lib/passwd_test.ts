import assert from "node:assert/strict";
import {
  groupList,
  lookupGroup,
  lookupUser,
  parseNumericId,
} from "./passwd.ts";

Deno.test("parseNumericId() accepts decimal ids below (uid_t)-1 only", () => {
  assert.equal(parseNumericId("0"), 0);
  assert.equal(parseNumericId("65534"), 65534);
  assert.equal(parseNumericId("4294967294"), 4294967294);
  for (
    const bad of [
      "",
      "-1",
      "1e3",
      " 1",
      "0x10",
      "4294967295",
      "99999999999",
      "root",
    ]
  ) {
    assert.equal(parseNumericId(bad), undefined, bad);
  }
});

Deno.test("lookupUser() finds root by name and by uid", () => {
  const byName = lookupUser("root");
  assert.equal(byName?.uid, 0);
  assert.equal(byName?.gid, 0);
  assert.equal(byName?.dir, "/root");
  assert.deepEqual(lookupUser("0"), byName);
});

Deno.test("lookupUser() returns undefined for an unknown user or uid", () => {
  assert.equal(lookupUser("no-such-user-baseimage"), undefined);
  assert.equal(lookupUser("4294967290"), undefined);
});

Deno.test("lookupGroup() finds root by name and by gid", () => {
  assert.deepEqual(lookupGroup("root"), { name: "root", gid: 0 });
  assert.deepEqual(lookupGroup("0"), { name: "root", gid: 0 });
  assert.equal(lookupGroup("no-such-group-baseimage"), undefined);
});

Deno.test("groupList() includes the login group", () => {
  assert.ok(groupList("root", 0).includes(0));
  assert.ok(groupList("no-such-user-baseimage", 4242).includes(4242));
});
