/** The end of a command that outlives its timeout: SIGTERM to its process group, SIGKILL 2 s later. */

const KILL_GRACE_MS = 2_000;

export interface Deadline {
  /** The timeout fired (the result says "timed out", whatever the exit status). */
  readonly passed: boolean;
  /** The command ended: no SIGTERM now; a SIGKILL already on its way still comes, for stragglers. */
  clear(): void;
  /** The command never ran: nothing to kill at all. */
  cancel(): void;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: every member of the group is already gone.
  }
}

/** Starts the timeout of the process group that `pid` leads (none without a pid: nothing started). */
export function startDeadline(pid: number | undefined, timeoutMs: number): Deadline {
  let passed = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timeoutTimer =
    pid === undefined
      ? undefined
      : setTimeout(() => {
          passed = true;
          signalGroup(pid, "SIGTERM");
          killTimer = setTimeout(() => signalGroup(pid, "SIGKILL"), KILL_GRACE_MS);
          // The result may be ready before the grace period ends (the shell died on SIGTERM): the
          // SIGKILL for stragglers must not keep perch alive on its own.
          killTimer.unref();
        }, timeoutMs);
  return {
    get passed() {
      return passed;
    },
    clear: () => clearTimeout(timeoutTimer),
    cancel: () => {
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
    },
  };
}
