/**
 * The end of a command that outlives its timeout: SIGTERM to its process group, SIGKILL 2 s later
 * (members first, the shell last); and the end of the wait for its output pipe, which a descendant
 * outside the group may hold.
 */
import type { ChildProcess } from "node:child_process";
import { killGroupLeaderLast, signalGroup } from "./process-group.js";

const KILL_GRACE_MS = 2_000;
/** After the shell's exit, how long the output pipe may stay open before perch stops reading it. */
export const DRAIN_AFTER_EXIT_MS = 200;

export interface Deadline {
  /** The timeout fired (the result says "timed out", whatever the exit status). */
  readonly passed: boolean;
  /** The command ended: no SIGTERM now; a SIGKILL already on its way still comes, for stragglers. */
  clear(): void;
  /** The command never ran: nothing to kill at all. */
  cancel(): void;
  /** Calls `action` once the SIGKILL has been sent and a drain has passed; returns its cancel. */
  onHardStop(action: () => void): () => void;
}

/** Starts the timeout of the process group that `pid` leads (none without a pid: nothing started). */
export function startDeadline(pid: number | undefined, timeoutMs: number): Deadline {
  let passed = false;
  let killTimer: NodeJS.Timeout | undefined;
  let leaderTimer: NodeJS.Timeout | undefined;
  const hardStops = new Set<() => void>();
  const timeoutTimer =
    pid === undefined
      ? undefined
      : setTimeout(() => {
          passed = true;
          signalGroup(pid, "SIGTERM");
          killTimer = setTimeout(() => {
            leaderTimer = killGroupLeaderLast(pid, () => {
              const after = setTimeout(() => hardStops.forEach((action) => action()), DRAIN_AFTER_EXIT_MS);
              after.unref();
            });
            leaderTimer?.unref();
          }, KILL_GRACE_MS);
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
      clearTimeout(leaderTimer);
    },
    onHardStop: (action) => {
      hardStops.add(action);
      return () => hardStops.delete(action);
    },
  };
}

/**
 * Calls `stopReading` DRAIN_AFTER_EXIT_MS after `child` exits, or when the deadline's SIGKILL is
 * past and the shell still has not been seen to exit: nothing outside the process group can hold
 * perch beyond the timeout and its grace. `clear` once the command's result is in.
 */
export function drainAfterExit(child: ChildProcess, stopReading: () => void, deadline: Deadline): { clear(): void } {
  let drainTimer: NodeJS.Timeout | undefined;
  const onExit = (): void => {
    drainTimer = setTimeout(stopReading, DRAIN_AFTER_EXIT_MS);
  };
  child.once("exit", onExit);
  const hardStop = deadline.onHardStop(stopReading);
  return {
    clear: () => {
      child.off("exit", onExit);
      clearTimeout(drainTimer);
      hardStop();
    },
  };
}
