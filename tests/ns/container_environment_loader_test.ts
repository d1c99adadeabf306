/**
 * The image's /etc/container_environment.sh, a link to the loader
 * (image/services/environment/load_container_environment.sh), sourced by
 * dash and bash under `set -eu` in a sandbox where each case lays out the
 * dumps in /run, /tmp and /dev/shm with their owners and modes: which dump
 * it sources (root mode's on a read-only root in /run, non-root mode's in
 * /tmp), and which it passes over (another user's, a link, a hard link,
 * group- or world-writable, empty, none at all).
 *
 * @module
 */

import assert from "node:assert/strict";
import { ROOT } from "./_sandbox.ts";
import { ignore, withSandbox } from "./_my_init.ts";

const LOADER = "/usr/share/baseimage-deno/load_container_environment.sh";

/**
 * Runs every case in one sandbox as its PID 1 (root). `probe LABEL UID
 * SHELL` sources /etc/container_environment.sh as UID (group 0, or the
 * groups given after it) with a clean environment and records `status $?
 * [$VAR]`, or the failure.
 */
const CASES = `
set -eu
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
chmod 1777 /tmp
mkdir -p /etc/profile.d
ln -sfn ${LOADER} /etc/container_environment.sh
clean() {
  rm -f /run/container_environment.sh /tmp/container_environment.sh \
    /dev/shm/container_environment.sh /root-owned
}
# dump PATH OWNER MODE VALUE: a dump as my_init writes it.
dump() {
  printf "export VAR='%s'\n" "$4" >"$1"
  chown "$2" "$1"
  chmod "$3" "$1"
}
# record LABEL CMD...: "LABEL: OUTPUT", or "LABEL: failed: OUTPUT".
record() {
  label=$1
  shift
  if out=$("$@" 2>&1); then
    echo "$label: $out" >>/shared/out
  else
    echo "$label: failed: $out" >>/shared/out
  fi
}
probe() {
  record "$1" setpriv --reuid="$2" --regid=0 "\${4:---clear-groups}" env -i "$3" -euc \
    '. /etc/container_environment.sh; echo "status $? [\${VAR:-}]"'
}

clean
dump /tmp/container_environment.sh 100123 600 tmp
probe "non-root, dump in /tmp, dash" 100123 /bin/dash
probe "non-root, dump in /tmp, bash" 100123 /bin/bash
probe "root passes over the uid's dump" 0 /bin/sh

clean
dump /run/container_environment.sh 0:8377 640 run
dump /tmp/container_environment.sh 100124 644 planted
probe "root mode, read-only root: /run" 0 /bin/sh
probe "a docker_env member reads /run" 100123 /bin/sh --groups=8377
probe "another uid's dump in /tmp is passed over" 100123 /bin/sh

clean
dump /run/container_environment.sh 0 600 run
dump /tmp/container_environment.sh 0 600 tmp
probe "/run before /tmp" 0 /bin/sh

clean
touch /run/container_environment.sh
probe "empty and missing dumps: nothing, status 0" 100123 /bin/sh
probe "empty and missing dumps as root" 0 /bin/dash

clean
dump /dev/shm/container_environment.sh 100124 644 planted
probe "planted in /dev/shm by another uid" 100123 /bin/sh
probe "planted in /dev/shm by another uid, as root" 0 /bin/sh

clean
dump /tmp/container_environment.sh 100123 620 group-writable
probe "group-writable" 100123 /bin/sh
dump /run/container_environment.sh 0 646 world-writable
probe "world-writable" 0 /bin/sh

clean
dump /root-owned 0 644 linked
ln -s /root-owned /tmp/container_environment.sh
probe "a symbolic link" 0 /bin/sh

clean
dump /root-owned 0 644 hard-linked
ln /root-owned /tmp/container_environment.sh
probe "a hard link" 0 /bin/sh

clean
dump /tmp/container_environment.sh 100123 600 tmp
record "no stat or cat on PATH" setpriv --reuid=100123 --regid=0 --clear-groups \
  env -i PATH=/nonexistent /bin/dash -euc \
  '. /etc/container_environment.sh; echo "reached [\${VAR:-}]"'
record "the caller's positional parameters" setpriv --reuid=100123 --regid=0 \
  --clear-groups env -i /bin/sh -euc \
  'set -- a b; . /etc/container_environment.sh; echo "$# $1 [\${VAR:-}]"'

clean
dump /tmp/container_environment.sh 0 600 tmp
rm /etc/container_environment.sh
dump /etc/container_environment.sh 0 640 etc
record "the loader itself reads /etc's dump first" env -i /bin/sh -euc \
  ". ${LOADER}"'; echo "status $? [\${VAR:-}]"'
`;

/**
 * Runs `script` with bash as the PID 1 of a sandbox that has the loader at
 * its image path; resolves with the outcome and /shared/out.
 */
async function runWithLoader(script: string, ms?: number) {
  return await withSandbox({
    command: ["/bin/bash", "-c", script],
    files: {
      [LOADER]: await Deno.readTextFile(
        `${ROOT}/image/services/environment/load_container_environment.sh`,
      ),
    },
  }, async (box, done) => {
    await done;
    return await box.read("out");
  }, ms);
}

Deno.test({
  name:
    "/etc/container_environment.sh sources the first dump of /run, /tmp, /dev/shm that is root's or the shell's own, a regular file with one name, not group- or world-writable",
  ignore,
  async fn() {
    const { out, result } = await runWithLoader(CASES);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(result.split("\n").filter((l) => l !== ""), [
      "non-root, dump in /tmp, dash: status 0 [tmp]",
      "non-root, dump in /tmp, bash: status 0 [tmp]",
      "root passes over the uid's dump: status 0 []",
      "root mode, read-only root: /run: status 0 [run]",
      "a docker_env member reads /run: status 0 [run]",
      "another uid's dump in /tmp is passed over: status 0 []",
      "/run before /tmp: status 0 [run]",
      "empty and missing dumps: nothing, status 0: status 0 []",
      "empty and missing dumps as root: status 0 []",
      "planted in /dev/shm by another uid: status 0 []",
      "planted in /dev/shm by another uid, as root: status 0 []",
      "group-writable: status 0 []",
      "world-writable: status 0 []",
      "a symbolic link: status 0 []",
      "a hard link: status 0 []",
      // Nothing loaded, and the caller goes on under set -e.
      "no stat or cat on PATH: reached []",
      "the caller's positional parameters: 2 a [tmp]",
      "the loader itself reads /etc's dump first: status 0 [etc]",
    ], out.stderr);
  },
});

/**
 * Another uid swaps files at the path while the uid loads its own dump,
 * in a directory anyone may write without the sticky bit (a Kubernetes
 * emptyDir is mode 0777): it renames the uid's dump away, its own in, and
 * back. The loader before, which checked the path and then sourced the
 * path, loaded the other uid's file 30 times in these 300 loads.
 */
const RACE = `
set -eu
mkdir -p /etc/profile.d
ln -sfn ${LOADER} /etc/container_environment.sh
chmod 0777 /run
printf "export VAR='mine'\\n" >/run/container_environment.sh
chown 100123 /run/container_environment.sh
chmod 600 /run/container_environment.sh
# perl (in every Debian): a swap each half millisecond, far more often than
# a shell loop of mv.
setpriv --reuid=100124 --regid=0 --clear-groups perl -e '
  chdir "/run" or die;
  until (-e "/shared/stop") {
    open(my $f, ">", "planted.new") or die; print $f "export VAR=planted\\n"; close $f;
    rename "container_environment.sh", "mine.away";
    rename "planted.new", "container_environment.sh";
    select undef, undef, undef, 0.0005;
    rename "mine.away", "container_environment.sh";
    select undef, undef, undef, 0.0005;
  }' &
i=0
while [ $i -lt 300 ]; do
  setpriv --reuid=100123 --regid=0 --clear-groups env -i /bin/sh -euc \
    '. /etc/container_environment.sh; echo "[\${VAR:-}]"' >>/shared/out 2>&1 || echo failed >>/shared/out
  i=$((i + 1))
done
touch /shared/stop
wait
`;

Deno.test({
  name:
    "/etc/container_environment.sh never loads a file another uid renames into place while it loads (300 loads in a 0777 directory)",
  ignore,
  async fn() {
    const { out, result } = await runWithLoader(RACE, 120_000);
    assert.equal(out.code, 0, out.stderr);
    const counts = new Map<string, number>();
    for (const line of result.split("\n").filter((l) => l !== "")) {
      counts.set(line, (counts.get(line) ?? 0) + 1);
    }
    assert.equal(counts.get("[planted]") ?? 0, 0, JSON.stringify([...counts]));
    assert.equal(counts.get("failed") ?? 0, 0, JSON.stringify([...counts]));
    // The race was run: the uid's own dump was loaded between the swaps.
    assert.ok((counts.get("[mine]") ?? 0) > 0, JSON.stringify([...counts]));
  },
});
