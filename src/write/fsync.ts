/**
 * The fsyncs, the only calls of a write made on the thread pool: its round trips cost more than the
 * quick calls made on this thread, which a filesystem that stops answering holds (and /healthz).
 */
import { closeSync, constants, fsync, openSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { step } from "./step.js";

const fsyncDescriptor = promisify(fsync);

/** fsyncs `fd` and resolves to how long it took, from the call to its completion as this thread saw it. */
export function timedFsync(fd: number): Promise<number> {
  return timed(() => fsyncDescriptor(fd));
}

/**
 * Starts the fsync of `file` and resolves to its duration. It can be awaited after other work: a
 * failure meanwhile is not an unhandled rejection.
 */
export function startTimedFsync(file: string): Promise<number> {
  const synced = timed(() => syncPath(file));
  synced.catch(() => undefined);
  return synced;
}

export async function syncDirectory(dir: string): Promise<void> {
  // Best effort: the rename has happened, so the file is installed; failing now would skip the
  // reload of a file that did change. Some filesystems refuse fsync on a directory (EINVAL).
  await syncPath(dir).catch(() => undefined);
}

/** For a descriptor whose fsync has run, or whose write failed: its close has nothing to add. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing to report: the fsync had the last word on the data, or an earlier failure has it.
  }
}

async function timed(sync: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await step("fsync", sync);
  return performance.now() - started;
}

/** fsync through a read-only descriptor (Linux flushes the file's data and metadata all the same). */
async function syncPath(file: string): Promise<void> {
  const fd = openSync(file, constants.O_RDONLY);
  try {
    await fsyncDescriptor(fd);
  } finally {
    closeQuietly(fd);
  }
}
