/**
 * What an image built `FROM phusion/baseimage` meets here that differs
 * (README, "Upgrading from phusion/baseimage-docker"): the base's user at
 * uid 1000, no add-apt-repository and no lsb_release, and the replacement
 * the README shows (a deb822 source with its key, the codename from
 * /etc/os-release).
 */
import assert from "node:assert/strict";
import { IMAGE, runToEnd } from "./_engine.ts";
import { baseOf } from "./_base.ts";

const README = await Deno.readTextFile(
  new URL("../../README.md", import.meta.url),
);

// The README's line that frees uid 1000 on the Ubuntu image.
const FREE_UID_1000 = "RUN userdel --remove ubuntu";

/** The name of the user at uid 1000 in `image`, or "" when there is none. */
async function user1000(image: string): Promise<string> {
  const r = await runToEnd("uid1000", [
    "--network=none",
    "--entrypoint",
    "sh",
    image,
    "-c",
    "getent passwd 1000 | cut -d: -f1",
  ]);
  assert.equal(r.code, 0, r.logs);
  return r.logs.trim();
}

Deno.test("upgrade: uid 1000 is the base's user (ubuntu on Ubuntu), and the README's line frees it", async () => {
  assert.ok(README.includes(FREE_UID_1000), `README lacks "${FREE_UID_1000}"`);
  const theirs = await user1000(await baseOf(IMAGE));
  const ours = await user1000(IMAGE);
  assert.equal(ours, theirs);
  // On a base without the user (a plain Debian) uid 1000 is free as it is.
  const free = theirs === "ubuntu"
    ? `${FREE_UID_1000.replace(/^RUN /, "")} && `
    : "";
  const r = await runToEnd("free-uid1000", [
    "--network=none",
    IMAGE,
    "sh",
    "-c",
    `${free}useradd -u 1000 app && id app && ls /home`,
  ]);
  assert.equal(r.code, 0, r.logs);
  assert.match(r.logs, /^uid=1000\(app\) gid=1000\(app\)/m);
  assert.doesNotMatch(r.logs, /^ubuntu$/m, "the home of ubuntu is left");
});

Deno.test("upgrade: no add-apt-repository, lsb_release, apt-utils or Python; /etc/os-release has the codename", async () => {
  const r = await runToEnd("no-ppa-tools", [
    "--network=none",
    IMAGE,
    "sh",
    "-c",
    'command -v add-apt-repository lsb_release apt-extracttemplates python3; . /etc/os-release && echo "CODENAME=$VERSION_CODENAME"',
  ]);
  assert.equal(r.code, 0, r.logs);
  assert.match(r.logs, /^CODENAME=[a-z]+$/m);
  assert.doesNotMatch(
    r.logs,
    /add-apt-repository|lsb_release|apt-extracttemplates|python3/,
  );
});

Deno.test("upgrade: a deb822 source with an armored key in /etc/apt/keyrings, as the README shows, installs with install_clean", async () => {
  // The README's recipe with the distribution's own archive as the
  // "third-party" repository (the only one reachable here): its key as an
  // armored file, a .sources file naming it, every other source removed.
  const script = [
    "set -e",
    ". /etc/os-release",
    "uri=$(awk '$1 == \"deb\" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)",
    '[ -n "$uri" ] || uri=$(sed -n "s/^URIs: *//p" /etc/apt/sources.list.d/*.sources | head -n 1)',
    "{ echo '-----BEGIN PGP PUBLIC KEY BLOCK-----'; echo; " +
    "base64 -w 64 /usr/share/keyrings/$ID-archive-keyring.gpg; " +
    "echo '-----END PGP PUBLIC KEY BLOCK-----'; } >/etc/apt/keyrings/archive.asc",
    "rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*",
    "printf '%s\\n' 'Types: deb' \"URIs: $uri\" \"Suites: $VERSION_CODENAME\" " +
    "'Components: main' 'Signed-By: /etc/apt/keyrings/archive.asc' " +
    ">/etc/apt/sources.list.d/archive.sources",
    "install_clean hello >/tmp/log 2>&1 || { cat /tmp/log; exit 1; }",
    "hello",
    // add-apt-repository, as phusion's image has it, comes with Python.
    "apt-get update -qq && apt-get install -s software-properties-common | " +
    "grep -E '^Inst (python3|software-properties-common) ' | cut -d' ' -f2",
  ].join("\n");
  const r = await runToEnd("deb822", [
    "--network=host",
    IMAGE,
    "sh",
    "-c",
    script,
  ], 300_000);
  assert.equal(r.code, 0, r.logs);
  assert.match(r.logs, /Hello, world!/);
  assert.match(r.logs, /^software-properties-common$/m);
  assert.match(r.logs, /^python3$/m);
});
