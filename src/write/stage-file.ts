/**
 * Stage files: `.<name>.perch-stage-<pid>-<hex>` in the destination's directory. Their names, their
 * creation, the copies --keep-stage-file leaves, and the removal of those a crashed run left.
 */
import { randomBytes } from "node:crypto";
import { constants, openSync } from "node:fs";
import { copyFile, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { step } from "./step.js";

const STAGE_MARK = ".perch-stage-";

/** Destinations whose stale stage files this process has already removed. */
const cleanedAtStart = new Set<string>();

/**
 * Random once per process, then counted: unique within the process, and with the pid unlikely to
 * meet another process's names (O_EXCL refuses one that does); a random draw per name is slower.
 */
let stageToken: string | undefined;
let stageCount = 0;

function stagePrefix(dest: string): string {
  return `.${path.basename(dest)}${STAGE_MARK}`;
}

export function newStagePath(dest: string): string {
  stageToken ??= randomBytes(6).toString("hex");
  return path.join(path.dirname(dest), `${stagePrefix(dest)}${process.pid}-${stageToken}${(stageCount++).toString(16)}`);
}

/**
 * O_EXCL: never reuse a file someone else created. The wanted permission bits from the start (setuid,
 * setgid and sticky come with the chmod): it shows no one what the installed file would not.
 */
export function createStageFile(stage: string, mode: number): number {
  return step("creating the stage file", () => openSync(stage, "wx", mode & 0o777));
}

/** Stage files a crashed run left for `dest` (only ours: `<pid>-<hex>` after the mark). */
export async function removeStaleStages(dest: string): Promise<void> {
  const dir = path.dirname(dest);
  const prefix = stagePrefix(dest);
  // Best effort: a directory we cannot list or clean is reported by the stage file's creation.
  const names = await readdir(dir).catch(() => []);
  await Promise.all(
    names
      .filter((name) => name.startsWith(prefix) && /^\d+-[0-9a-f]+$/.test(name.slice(prefix.length)))
      // recursive: a check group's stage directory (write-group.ts) has the same name form.
      .map((name) => rm(path.join(dir, name), { force: true, recursive: true }).catch(() => undefined)),
  );
}

/**
 * True on the first visit of `dest` in this process: a crashed run's stage files go then, even when
 * there is nothing to write (they would otherwise stay for as long as the destination is up to date).
 */
export function firstVisit(dest: string): boolean {
  if (cleanedAtStart.has(dest)) return false;
  cleanedAtStart.add(dest);
  return true;
}

/**
 * --keep-stage-file: a copy, so the stage file still follows one path (renamed, or removed) while the
 * kept one outlives a failed check or a write, until the next write's cleanup.
 */
export async function keepStageCopy(stage: string, dest: string): Promise<void> {
  await step("keeping a copy of the stage file", () => copyFile(stage, newStagePath(dest), constants.COPYFILE_EXCL));
}

export async function removeStage(stage: string): Promise<void> {
  await rm(stage, { force: true }).catch(() => undefined);
}
