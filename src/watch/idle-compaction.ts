/**
 * One full garbage collection once the daemon has been quiet for a moment after work. V8's memory
 * reducer would otherwise give the garbage of a burst back only seconds later, and in several
 * incremental collections: it is kept to a single one (it can only be turned off at start-up).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** After the last pass or listing: long enough that a burst of changes ends first. */
export const IDLE_COMPACTION_DELAY_MS = 1000;

export interface IdleCompaction {
  /** Work just ended: collect once, unless more work comes within the delay. */
  settled(): void;
  stop(): void;
}

/**
 * V8's flags are process-wide: call when `perch watch` starts, never in a one-shot command (a
 * process that exits soon has no use for either).
 */
export function startIdleCompaction(delayMs = IDLE_COMPACTION_DELAY_MS): IdleCompaction {
  setFlagsFromString("--memory-reducer-single-gc");
  const collect = exposedCollector();
  let timer: NodeJS.Timeout | undefined;
  return {
    settled() {
      if (timer) {
        timer.refresh();
        return;
      }
      timer = setTimeout(() => {
        timer = undefined;
        collect();
      }, delayMs);
      // A pending collection never keeps a stopping daemon alive.
      timer.unref();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** V8's `gc()` (a full, compacting collection), which exists only in a context made after `--expose-gc` is set. */
function exposedCollector(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}
