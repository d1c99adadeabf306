import assert from "node:assert/strict";
import { userEnv } from "./env.ts";

Deno.test("userEnv() sets HOME, USER, LOGNAME, UID and SHELL from the passwd entry", () => {
  assert.deepEqual(
    userEnv({
      name: "memcache",
      uid: 105,
      gid: 110,
      dir: "/home/memcache",
      shell: "/bin/false",
    }),
    {
      HOME: "/home/memcache",
      USER: "memcache",
      LOGNAME: "memcache",
      UID: "105",
      SHELL: "/bin/false",
    },
  );
});

Deno.test("userEnv() falls back to / and /bin/sh as login(1) does", () => {
  const env = userEnv({ name: "x", uid: 1, gid: 1, dir: "", shell: "" });
  assert.equal(env.HOME, "/");
  assert.equal(env.SHELL, "/bin/sh");
});
