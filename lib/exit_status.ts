/**
 * Decoding of wait(2) statuses into the exit codes a shell would report.
 *
 * @module
 */

/** What a wait status says happened to a child. */
export type ExitStatus =
  | { readonly kind: "exited"; readonly code: number }
  | { readonly kind: "signaled"; readonly signal: number }
  | { readonly kind: "other"; readonly raw: number };

/** Decodes a raw `wstatus` as the W* macros of glibc do. */
export function decodeWaitStatus(raw: number): ExitStatus {
  const termsig = raw & 0x7f;
  if (termsig === 0) return { kind: "exited", code: (raw >> 8) & 0xff };
  // 0x7f is "stopped", which waitpid reports only with WUNTRACED.
  if (termsig !== 0x7f) return { kind: "signaled", signal: termsig };
  return { kind: "other", raw };
}

/**
 * The signal that stopped a child, when `raw` is a "stopped" status (which
 * waitpid reports with WUNTRACED); undefined for any other status.
 */
export function stopSignalOf(raw: number): number | undefined {
  return (raw & 0xff) === 0x7f ? (raw >> 8) & 0xff : undefined;
}

/**
 * The exit code a parent should pass on: the child's own code, or 128+N for
 * a child killed by signal N (tini, dumb-init and shells agree on this; the
 * Python my_init reported 0, a defect we fix).
 */
export function exitCodeOf(status: ExitStatus): number {
  switch (status.kind) {
    case "exited":
      return status.code;
    case "signaled":
      return 128 + status.signal;
    default:
      return 1;
  }
}
