import assert from "node:assert/strict";
import {
  nonRootLine,
  ownDirProblem,
  STATE_BASES,
  statePaths,
  superviseTarget,
  userDefaults,
} from "./privilege.ts";

Deno.test("STATE_BASES tries /run, then /tmp, then /dev/shm", () => {
  assert.deepEqual(STATE_BASES, ["/run", "/tmp", "/dev/shm"]);
});

Deno.test("statePaths() under /run are root mode's read-only paths, which the image links to", () => {
  assert.deepEqual(statePaths("/run"), {
    base: "/run",
    env: {
      dir: "/run/container_environment",
      shellDump: "/run/container_environment.sh",
      jsonDump: "/run/container_environment.json",
    },
    serviceDir: "/run/runit/service",
    superviseDir: "/run/runit/supervise",
  });
  assert.equal(
    statePaths("/tmp").env.shellDump,
    "/tmp/container_environment.sh",
  );
});

Deno.test("ownDirProblem() takes only a real directory of the uid's own", () => {
  const dir = { isDirectory: true, isSymlink: false, uid: 100123 };
  assert.equal(ownDirProblem(dir, 100123), undefined);
  assert.equal(
    ownDirProblem({ ...dir, uid: 0 }, 100123),
    "it belongs to uid 0, not 100123",
  );
  assert.equal(
    ownDirProblem({ isDirectory: false, isSymlink: true, uid: 100123 }, 100123),
    "it is a symbolic link",
  );
  assert.equal(
    ownDirProblem({ ...dir, isDirectory: false }, 100123),
    "it is not a directory",
  );
});

Deno.test("userDefaults() sets USER and HOME from the passwd entry, or the number and /", () => {
  assert.deepEqual(userDefaults(new Map(), 100123, undefined), {
    USER: "100123",
    HOME: "/",
  });
  assert.deepEqual(
    userDefaults(new Map(), 1000, { name: "app", dir: "/home/app" }),
    { USER: "app", HOME: "/home/app" },
  );
  // What the container was given wins (docker sets HOME=/ itself).
  assert.deepEqual(
    userDefaults(new Map([["HOME", "/data"], ["USER", "me"]]), 1, undefined),
    {},
  );
});

Deno.test("nonRootLine() says who, where the state goes, and what is off", () => {
  assert.equal(
    nonRootLine({ uid: 100123, gid: 0, base: "/tmp", envDirReadable: false }),
    "Non-root mode: running as uid 100123 (no passwd entry), gid 0; " +
      "state in /tmp; off: switching users (setuser), apt (install_clean), " +
      "signalling other users' processes, services that need root, " +
      "importing /etc/container_environment (root's)",
  );
  assert.equal(
    nonRootLine({ uid: 1000, gid: 1000, name: "app", envDirReadable: true }),
    "Non-root mode: running as uid 1000 (app), gid 1000; no state directory " +
      "(none of /run, /tmp, /dev/shm is writable); off: switching users " +
      "(setuser), apt (install_clean), signalling other users' processes, " +
      "services that need root",
  );
});

Deno.test("superviseTarget() keeps the name of a link into /run/runit/supervise", () => {
  const dir = "/tmp/runit/supervise";
  assert.equal(
    superviseTarget("/run/runit/supervise/cron", "cron", dir),
    "/tmp/runit/supervise/cron",
  );
  assert.equal(
    superviseTarget("/run/runit/supervise/web-log/", "web/log", dir),
    "/tmp/runit/supervise/web-log",
  );
  // No link, a link elsewhere, or one that climbs out: the service's name.
  assert.equal(superviseTarget(undefined, "web", dir), `${dir}/web`);
  assert.equal(superviseTarget("/var/sv/web", "web", dir), `${dir}/web`);
  assert.equal(
    superviseTarget("/run/runit/supervise/../../etc", "web", dir),
    `${dir}/web`,
  );
});
