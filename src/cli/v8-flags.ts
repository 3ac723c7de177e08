/**
 * The V8 flags a command runs with, in one list per command: V8 checks a code cache against the flags, so the
 * launcher sets a command's flags before it compiles the program (a flag set later makes V8 reject the cache, and
 * the data that run writes fits no start without the flag). The command sets them too, for a run without the
 * launcher; setting a flag again to the same value changes nothing.
 */

const OPTIMIZE_FOR_SIZE = "--optimize-for-size";
/**
 * After a full collection V8 lets the old generation grow by a factor it picks from its collection speed (up to 4):
 * each change's render garbage is promoted, so a burst of changes took the resident peak well above the live heap.
 * A fixed 1.25 collects it sooner; V8 still grows by at least a few MB at a time.
 */
const HEAP_GROWING = "--heap-growing-percent=25";

/**
 * `perch watch`: V8's heap sized for a long-lived daemon (watch-command.ts says why; HEAP_GROWING), and what its quiet-time
 * collection needs (src/watch/idle-compaction.ts; watch-command.ts sets them for a run without the launcher). That
 * collection sets --optimize-for-size and takes it back; V8 counts a flag set and reset as a change (an idempotent
 * one), so the same change is made before compiling, unless node's command line set the flag for the whole process.
 */
export function daemonV8Flags(execArgv: readonly string[] = process.execArgv): readonly string[] {
  const flags = ["--semi-space-growth-factor=1", HEAP_GROWING, "--memory-reducer-single-gc", "--expose-gc"];
  return sizeOptimizedThroughout(execArgv) ? flags : [...flags, OPTIMIZE_FOR_SIZE, "--no-optimize-for-size"];
}

/** node's command line set --optimize-for-size for the whole process: the quiet-time collection leaves it alone. */
export function sizeOptimizedThroughout(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.includes(OPTIMIZE_FOR_SIZE);
}

/**
 * The flags of the command a command line runs, as the launcher reads it before the program is loaded: the command
 * word first, as deploy/ and the docs write it (`perch watch …`). Any other form (confd's, whose command may come from
 * confd.toml) gets them from the command once it runs, as before: compiled from the one-shots' cache, if there is one.
 */
export function launchV8Flags(argv: readonly string[]): readonly string[] {
  return argv[0] === "watch" ? daemonV8Flags() : [];
}
