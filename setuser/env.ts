/**
 * The environment variables setuser sets for the user it switches to.
 *
 * @module
 */

import type { PasswdEntry } from "../lib/passwd.ts";

/**
 * HOME, USER, LOGNAME, UID and SHELL for `user`, from its passwd entry. The
 * rest of the environment is left as the caller gave it, as phusion's
 * setuser does (it sets USER, HOME and UID); LOGNAME and SHELL are added
 * because login(1) and su(1) set them too and programs read them. An empty
 * home directory or shell gets the defaults login(1) uses: "/" and
 * "/bin/sh".
 */
export function userEnv(user: PasswdEntry): Record<string, string> {
  return {
    HOME: user.dir === "" ? "/" : user.dir,
    USER: user.name,
    LOGNAME: user.name,
    UID: String(user.uid),
    SHELL: user.shell === "" ? "/bin/sh" : user.shell,
  };
}
