/**
 * One full garbage collection once the daemon has been quiet for a moment after work, and one
 * between a listing and its pass, made while V8 optimizes for size so that it compacts and gives
 * emptied pages back. V8's memory reducer would otherwise do that only seconds later, in up to
 * three collections: it is kept to one (it can only be turned off at start-up). Renders keep V8's
 * speed settings.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** After the last pass or listing: long enough that a burst of changes ends first. */
export const IDLE_COMPACTION_DELAY_MS = 1000;

const OPTIMIZE_FOR_SIZE = "--optimize-for-size";

export interface IdleCompaction {
  /** Work just ended: collect once, unless more work comes within the delay. */
  settled(): void;
  /** Collect now: a listing's garbage, before the pass that follows adds its own to the peak. */
  now(): void;
  stop(): void;
}

/**
 * Needs the daemon's V8 flags already set (`--expose-gc`, `--memory-reducer-single-gc`: src/cli/v8-flags.ts).
 * `sizeOptimizedThroughout`: node's command line set `--optimize-for-size` for the whole process.
 */
export function startIdleCompaction(sizeOptimizedThroughout: boolean, delayMs = IDLE_COMPACTION_DELAY_MS): IdleCompaction {
  const collect = compactingCollector(sizeOptimizedThroughout);
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
    now() {
      collect();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** A full collection with `--optimize-for-size` set for its duration only (V8 reads it as it collects). */
function compactingCollector(sizeOptimizedThroughout: boolean): () => void {
  // V8's `gc()` exists only in a context made after `--expose-gc` is set.
  const gc = runInNewContext("gc") as () => void;
  if (sizeOptimizedThroughout) return gc;
  return () => {
    setFlagsFromString(OPTIMIZE_FOR_SIZE);
    try {
      gc();
    } finally {
      setFlagsFromString("--no-optimize-for-size");
    }
  };
}
