import assert from "node:assert/strict";
import {
  type Observed,
  planSwitch,
  planWithoutRoot,
  type Target,
  verifyDrop,
} from "./credentials.ts";

const target: Target = {
  name: "app",
  uid: 1001,
  gid: 1002,
  groups: [1002, 27],
};
const root = { uid: 0, euid: 0, gid: 0, egid: 0, groups: [0] };
const dropped: Observed = {
  uid: 1001,
  euid: 1001,
  gid: 1002,
  egid: 1002,
  groups: [27, 1002],
  regainedRoot: false,
  regainedRootGroup: false,
};

Deno.test("planSwitch() drops privileges when running as root", () => {
  assert.equal(planSwitch(root, target), "drop");
  assert.equal(planSwitch({ ...root, uid: 1000 }, target), "drop");
});

Deno.test("planSwitch() keeps the credentials of a non-root caller that is the target", () => {
  assert.equal(
    planSwitch(
      { uid: 1001, euid: 1001, gid: 1002, egid: 1002, groups: [] },
      target,
    ),
    "keep",
  );
});

Deno.test("planSwitch() refuses another user or group without root", () => {
  assert.equal(
    planSwitch(
      { uid: 1000, euid: 1000, gid: 1000, egid: 1000, groups: [] },
      target,
    ),
    "refuse",
  );
  assert.equal(
    planSwitch(
      { uid: 1001, euid: 1001, gid: 1001, egid: 1001, groups: [] },
      target,
    ),
    "refuse",
  );
});

Deno.test("verifyDrop() accepts a complete drop, groups in any order", () => {
  assert.deepEqual(verifyDrop(target, dropped), []);
});

Deno.test("verifyDrop() fails a process that can take root back", () => {
  assert.deepEqual(verifyDrop(target, { ...dropped, regainedRoot: true }), [
    "setuid(0) succeeded afterwards",
  ]);
  assert.deepEqual(
    verifyDrop(target, { ...dropped, regainedRootGroup: true }),
    [
      "setgid(0) succeeded afterwards",
    ],
  );
});

Deno.test("verifyDrop() names every id that differs", () => {
  assert.deepEqual(
    verifyDrop(target, { ...dropped, euid: 0, egid: 0 }),
    ["euid is 0, expected 1001", "egid is 0, expected 1002"],
  );
});

Deno.test("verifyDrop() fails a caller's group left behind", () => {
  assert.deepEqual(verifyDrop(target, { ...dropped, groups: [0, 27, 1002] }), [
    "groups are 0,27,1002, expected 27,1002",
  ]);
  assert.deepEqual(
    verifyDrop({ ...target, groups: [] }, { ...dropped, groups: [] }),
    [],
  );
});

Deno.test("verifyDrop() fails a saved set-user-ID left at root", () => {
  assert.deepEqual(
    verifyDrop(target, {
      ...dropped,
      suid: 0,
      fsuid: 1001,
      sgid: 1002,
      fsgid: 0,
    }),
    ["suid is 0, expected 1001", "fsgid is 0, expected 1002"],
  );
});

Deno.test("planWithoutRoot() keeps the caller's own uid, by number without a passwd entry too", () => {
  const me = { uid: 100123, euid: 100123, gid: 0, egid: 0, groups: [] };
  assert.equal(planWithoutRoot(me, { uid: 100123 }), "keep");
  assert.equal(planWithoutRoot(me, { uid: 100123, gid: 0 }), "keep");
  assert.equal(planWithoutRoot(me, { uid: 100123, gid: 1000 }), "refuse");
  assert.equal(planWithoutRoot(me, { uid: 0 }), "refuse");
  assert.equal(planWithoutRoot(me, { uid: undefined }), "refuse");
});

Deno.test("planWithoutRoot() refuses when the real or the effective uid is not the target's", () => {
  // A set-user-ID or set-group-ID program: real and effective ids differ.
  const me = { uid: 1001, euid: 1001, gid: 1002, egid: 1002, groups: [] };
  for (const key of ["uid", "euid"] as const) {
    const current = { ...me, [key]: 1000 };
    assert.equal(planWithoutRoot(current, { uid: 1001 }), "refuse", key);
    assert.equal(planWithoutRoot(current, { uid: 1000 }), "refuse", key);
  }
});

Deno.test("planWithoutRoot() refuses a GROUP that is not both the real and the effective gid", () => {
  const me = { uid: 1001, euid: 1001, gid: 1002, egid: 1002, groups: [] };
  for (const key of ["gid", "egid"] as const) {
    const current = { ...me, [key]: 1000 };
    assert.equal(planWithoutRoot(current, { uid: 1001 }), "keep", key);
    assert.equal(
      planWithoutRoot(current, { uid: 1001, gid: 1002 }),
      "refuse",
      key,
    );
    assert.equal(
      planWithoutRoot(current, { uid: 1001, gid: 1000 }),
      "refuse",
      key,
    );
  }
});

Deno.test("planSwitch() refuses a non-root caller that differs from the target in any one id", () => {
  const same = { uid: 1001, euid: 1001, gid: 1002, egid: 1002, groups: [] };
  for (const key of ["uid", "euid", "gid", "egid"] as const) {
    assert.equal(planSwitch({ ...same, [key]: 1000 }, target), "refuse", key);
  }
});

Deno.test("verifyDrop() fails groups that are missing or swapped, and says none for no group", () => {
  assert.deepEqual(verifyDrop(target, { ...dropped, groups: [27] }), [
    "groups are 27, expected 27,1002",
  ]);
  assert.deepEqual(verifyDrop(target, { ...dropped, groups: [27, 5] }), [
    "groups are 5,27, expected 27,1002",
  ]);
  assert.deepEqual(verifyDrop(target, { ...dropped, groups: [] }), [
    "groups are none, expected 27,1002",
  ]);
});
