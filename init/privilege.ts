/**
 * Non-root mode, deciding part: whether my_init runs without root, where it
 * keeps its state then (the container environment and runit's service
 * state), and what it says about it. The acting part is state_dir.ts and
 * service_tree.ts.
 *
 * my_init needs no privilege: started as any uid (`docker run --user`,
 * `USER` in a Dockerfile, OpenShift's arbitrary uid, Kubernetes'
 * "restricted" profile) it runs everything as that uid. No setuid helper is
 * involved (s6-overlay's `s6-overlay-suexec` fails under no-new-privileges,
 * and phusion's my_init refuses, phusion issue #211). What only root can do
 * is off: switching users, apt, and the image's services that need root,
 * which say so themselves.
 *
 * @module
 */

/**
 * Where non-root mode keeps its state, in the order tried: the first where
 * the uid can make (or already owns) a directory wins. /run first: where it
 * is writable (a Kubernetes emptyDir, 0777; `--tmpfs /run:mode=1777`) the
 * files land where root mode puts them on a read-only root, so the image's
 * links (/etc/container_environment.json, /etc/service/NAME/supervise) lead
 * to them (/etc/container_environment.sh is a loader that looks in all
 * three places). Then /tmp and /dev/shm, which are 1777 in every engine
 * (measured with podman and Docker: `--read-only --tmpfs /run` gives a
 * root-owned 0755 /run).
 */
export const STATE_BASES: readonly string[] = ["/run", "/tmp", "/dev/shm"];

/** The paths of non-root mode's state under one of {@link STATE_BASES}. */
export interface StatePaths {
  /** The base itself. */
  base: string;
  /** The container environment: the directory and the two dumps. */
  env: { dir: string; shellDump: string; jsonDump: string };
  /** The service tree runsvdir supervises (one directory per service). */
  serviceDir: string;
  /** Where runsv keeps each service's `supervise` state. */
  superviseDir: string;
}

/** The state paths under `base`. */
export function statePaths(base: string): StatePaths {
  return {
    base,
    env: {
      dir: `${base}/container_environment`,
      shellDump: `${base}/container_environment.sh`,
      jsonDump: `${base}/container_environment.json`,
    },
    serviceDir: `${base}/runit/service`,
    superviseDir: `${base}/runit/supervise`,
  };
}

/** What lstat(2) says about a path, as far as {@link ownDirProblem} needs. */
export interface PathInfo {
  isDirectory: boolean;
  isSymlink: boolean;
  uid: number | null;
}

/**
 * Why an existing path cannot be this uid's state directory, or undefined
 * when it can. Only a real directory of its own: in a world-writable /tmp
 * another user could have made the path first (a link to elsewhere, or a
 * directory they read), and the environment holds secrets.
 */
export function ownDirProblem(info: PathInfo, uid: number): string | undefined {
  if (info.isSymlink) return "it is a symbolic link";
  if (!info.isDirectory) return "it is not a directory";
  if (info.uid !== uid) return `it belongs to uid ${info.uid}, not ${uid}`;
  return undefined;
}

/**
 * HOME and USER for a uid that may have no passwd entry (OpenShift,
 * `--user 100123`): the entry's name and home when there is one, else the
 * number and "/" (login(1)'s default for an empty home). Values the
 * container was given are kept. Returns only what to set.
 */
export function userDefaults(
  env: ReadonlyMap<string, string>,
  uid: number,
  entry: { name: string; dir: string } | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!env.get("USER")) out.USER = entry?.name || String(uid);
  if (!env.get("HOME")) out.HOME = entry?.dir || "/";
  return out;
}

/** What the boot line of non-root mode reports. */
export interface NonRootFacts {
  uid: number;
  gid: number;
  /** The passwd name of uid, if it has one. */
  name?: string;
  /** The chosen base, or undefined when none of STATE_BASES was usable. */
  base?: string;
  /** Whether /etc/container_environment could be read (it is root's, 0700). */
  envDirReadable: boolean;
}

/**
 * The one `***` line non-root mode starts with: as whom, where its state
 * goes, and what is off (the image's services that need root say so
 * themselves, one line each).
 */
export function nonRootLine(facts: NonRootFacts): string {
  const who = `uid ${facts.uid}${
    facts.name ? ` (${facts.name})` : " (no passwd entry)"
  }, gid ${facts.gid}`;
  const where = facts.base === undefined
    ? `no state directory (none of ${STATE_BASES.join(", ")} is writable)`
    : `state in ${facts.base}`;
  const off = [
    "switching users (setuser)",
    "apt (install_clean)",
    "signalling other users' processes",
    "services that need root",
  ];
  if (!facts.envDirReadable) {
    off.push("importing /etc/container_environment (root's)");
  }
  return `Non-root mode: running as ${who}; ${where}; off: ${off.join(", ")}`;
}

/** Where root mode keeps runsv's state: the image's supervise links lead there. */
const ROOT_SUPERVISE_DIR = "/run/runit/supervise";

/**
 * Where a service's `supervise` directory goes in non-root mode's service
 * tree. A service whose `supervise` is a link into /run/runit/supervise (the
 * image's services, and derived ones that follow the README) keeps the same
 * name under `superviseDir`, so that with /run as the base its link leads
 * to the state and `sv status NAME` works as in root mode. Others get
 * `name` (the service's name, `NAME/log` for its log service).
 */
export function superviseTarget(
  link: string | undefined,
  name: string,
  superviseDir: string,
): string {
  const prefix = `${ROOT_SUPERVISE_DIR}/`;
  if (link !== undefined && link.startsWith(prefix)) {
    const rest = link.slice(prefix.length).replace(/\/+$/, "");
    if (rest !== "" && !rest.split("/").includes("..")) {
      return `${superviseDir}/${rest}`;
    }
  }
  return `${superviseDir}/${name}`;
}
