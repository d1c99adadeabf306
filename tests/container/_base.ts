/**
 * What an image of ours takes from its base image and keeps as the base
 * has it (README, "Upgrading from phusion/baseimage-docker", "The base's
 * settings"): the base's /usr/sbin/policy-rc.d, its dpkg configuration,
 * its docker-* apt configuration and the user at uid 1000. ubuntu:24.04
 * carries all of them, a plain debootstrap none (image/base_image.sh makes
 * both kinds of base; image/ubuntu_standin.sh says what ubuntu:24.04 adds).
 *
 * @module
 */
import { engineOk, runToEnd } from "./_engine.ts";

/** The label image/build.sh gives the image: the base it was built from. */
const BASE_LABEL = "org.opencontainers.image.base.name";

/** The base image `image` was built from (its label, set by image/build.sh). */
export async function baseOf(image: string): Promise<string> {
  const base = (await engineOk([
    "image",
    "inspect",
    "--format",
    `{{ index .Config.Labels "${BASE_LABEL}" }}`,
    image,
  ])).trim();
  if (base === "" || base === "<no value>") {
    throw new Error(`${image} has no label ${BASE_LABEL}`);
  }
  return base;
}

// One line per file (path and checksum), then uid 1000's passwd entry and
// groups: what a derived image's apt, dpkg, service starts and users meet.
const LISTING = "for f in /usr/sbin/policy-rc.d /etc/dpkg/dpkg.cfg.d/* " +
  '/etc/apt/apt.conf.d/docker-*; do [ -f "$f" ] && ' +
  'echo "$f $(md5sum <"$f" | cut -c1-32)"; done; ' +
  'u=$(getent passwd 1000) && echo "uid 1000: $u; $(id -nG "${u%%:*}")" || ' +
  'echo "uid 1000: none"';

/**
 * The base-owned settings of `image`, as text: the files (with checksums)
 * and the user at uid 1000.
 */
export async function baseSettings(image: string): Promise<string> {
  const r = await runToEnd("base-settings", [
    "--network=none",
    "--entrypoint",
    "sh",
    image,
    "-c",
    LISTING,
  ]);
  if (r.code !== 0) {
    throw new Error(`listing the base settings of ${image} failed: ${r.logs}`);
  }
  return r.logs;
}
