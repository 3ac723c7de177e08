/**
 * A check group written as one set (README "Writing files"): the group's new files, and the
 * unchanged ones as installed, are staged together in a directory beside the destinations with
 * their final names; the check runs there (so `include "bird_ipam.cfg";` reads the staged one); on
 * success each changed file is renamed into place, the checked one last. On failure none changes;
 * a rename that fails puts back the members already renamed.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { describeCommand } from "../command/describe.js";
import type { CommandResult } from "../command/run-command.js";
import type { RenderedText } from "../render/rendered-text.js";
import { runCheck } from "./check.js";
import { FileContent } from "./content.js";
import { lookAtDestination, settleLook, upToDate, type Destination, type DestinationLook } from "./destination.js";
import { fillAndClose } from "./fill.js";
import { startTimedFsync } from "./fsync.js";
import { install } from "./install.js";
import { wantedOwnership, type Ownership } from "./ownership.js";
import { createStageFile, firstVisit, newStagePath, removeStaleStages } from "./stage-file.js";
import { describeStepFailure, step } from "./step.js";
import type { WriteResult } from "./write-file.js";

export interface GroupMember {
  dest: string;
  /** The new content; undefined when it did not render (the installed file stays in the set). */
  content: RenderedText | undefined;
  mode?: number;
  uid?: number;
  gid?: number;
  look?: DestinationLook;
}

export interface GroupPolicy {
  checkCmd: string;
  checkTimeoutMs: number;
  /** Compare only: nothing in the destination directory is touched. */
  noop: boolean;
  /** With noop: run the check anyway (on a copy of the set in a temporary directory). */
  checkOnNoop: boolean;
  /** Run the check in a shell started while idle (src/command/spare-shell.ts): a daemon's. */
  spareShell?: boolean;
}

export interface GroupResult {
  /** One per member, in the order given; the first member is the one whose check_cmd runs. */
  members: Array<Omit<WriteResult, "durationMs" | "check">>;
  /** The group's check, when it ran (the last run, when several were needed to name the culprit). */
  check?: CommandResult;
  /** The staged files' fsyncs, run beside the check: the longest, as this thread saw it. Absent when none was waited for. */
  fsyncMs?: number;
  durationMs: number;
}

interface Seen {
  found: Destination;
  next: FileContent | undefined;
  want: Ownership;
  changed: boolean;
  warnings: string[];
}

/** Never throws for I/O problems: they are `failed` results naming the destination. */
export async function writeGroup(members: readonly GroupMember[], policy: GroupPolicy, onWaiting?: () => void): Promise<GroupResult> {
  const started = performance.now();
  const finish = (results: GroupResult["members"], check?: CommandResult, fsyncMs?: number): GroupResult => ({
    members: results,
    ...(check && { check }),
    ...(fsyncMs !== undefined && { fsyncMs }),
    durationMs: performance.now() - started,
  });
  const checker = members[0] as GroupMember;
  const names = members.map((m) => path.basename(m.dest));

  for (const m of members) if (!policy.noop && firstVisit(m.dest)) await removeStaleStages(m.dest);
  const looks = await Promise.all(members.map((m) => settleLook(m.look ?? lookAtDestination(m.dest), m.dest)));
  const refused = looks.findIndex((found) => "reason" in found);
  if (refused >= 0) {
    return finish(
      looks.map((found, i) =>
        "reason" in found
          ? { action: "failed", changed: found.changed, previous: null, error: `cannot write ${members[i]?.dest}: ${found.reason}` }
          : { action: "failed", changed: true, previous: found.content, error: `not installed: ${names[refused]} cannot be written, and ${names[0]}'s check covers both` },
      ),
    );
  }
  const seen: Seen[] = (looks as Destination[]).map((found, i) => {
    const m = members[i] as GroupMember;
    const warnings: string[] = [];
    const want = { ...wantedOwnership(m, found.file), onKeepRefused: (message: string) => warnings.push(`${m.dest}: ${message}`) };
    const next = m.content === undefined ? undefined : new FileContent(m.content);
    return { found, next, want, changed: next !== undefined && !upToDate(found, next, want), warnings };
  });
  const same = (s: Seen) => ({ action: "unchanged" as const, changed: false, previous: s.found.content });
  if (!seen.some((s) => s.changed)) return finish(seen.map(same));
  const wouldWrite = (s: Seen) => (s.changed ? { action: "would-write" as const, changed: true, previous: s.found.content } : same(s));
  if (policy.noop && !policy.checkOnNoop) return finish(seen.map(wouldWrite));

  // A noop stages outside the destination directory: a CI gate needs no write access there.
  const stageDir = policy.noop ? await mkdtemp(path.join(tmpdir(), "perch-check-")) : newStagePath(checker.dest);
  try {
    if (!policy.noop) step("creating the group's stage directory", () => mkdirSync(stageDir, 0o700));
    const changed = new Set(seen.flatMap((s, i) => (s.changed ? [i] : [])));
    let synced: Promise<number[]>;
    try {
      stage(stageDir, names, seen, changed);
      synced = Promise.all([...changed].map((i) => startTimedFsync(path.join(stageDir, names[i] as string))));
      synced.catch(() => undefined);
    } catch (err) {
      const error = `cannot stage ${names.join(", ")} for ${names[0]}'s check: ${describeStepFailure(err)}`;
      return finish(seen.map((s) => (s.changed ? { action: "failed", changed: true, previous: s.found.content, error } : same(s))));
    }
    const checkPath = path.join(stageDir, names[0] as string);
    let check = await runCheck(policy.checkCmd, checkPath, stageDir, policy.checkTimeoutMs, onWaiting, policy.spareShell);
    if (!check.ok) {
      const first = check;
      const culprits = changed.size === 1 || check.timedOut ? [...changed] : await culpritsOf(changed, async (alone) => {
        stage(stageDir, names, seen, alone, true);
        check = await runCheck(policy.checkCmd, checkPath, stageDir, policy.checkTimeoutMs);
        return !check.ok;
      });
      const error = `${names[0]}'s check_cmd failed with the new ${culprits.map((i) => names[i]).join(" and ")}: ${describeCommand(first)}`;
      return finish(seen.map((s) => (s.changed ? { action: "check-failed", changed: true, previous: s.found.content, error } : same(s))), first);
    }
    if (policy.noop) return finish(seen.map(wouldWrite), check);
    let fsyncMs: number;
    try {
      fsyncMs = Math.max(...(await synced));
    } catch (err) {
      const error = `cannot write ${names.join(", ")}: ${describeStepFailure(err)} (the staged set)`;
      return finish(seen.map((s) => (s.changed ? { action: "failed", changed: true, previous: s.found.content, error } : same(s))), check);
    }
    return finish(await installInOrder(members, names, seen, stageDir), check, fsyncMs);
  } finally {
    await rm(stageDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Writes the set into `dir`: the members in `fresh` with their new content, the others as installed.
 * `again`: an earlier trial's staging is there (the culprit search), and goes first.
 */
function stage(dir: string, names: readonly string[], seen: readonly Seen[], fresh: ReadonlySet<number>, again = false): void {
  seen.forEach((s, i) => {
    const file = path.join(dir, names[i] as string);
    if (again) rmQuietly(file);
    if (fresh.has(i) && s.next !== undefined) {
      const bytes = s.next.staged();
      const fd = createStageFile(file, s.want.mode);
      fillAndClose(fd, bytes, s.want);
    } else if (s.found.content !== null) {
      const unchanged = s.found.content;
      step("staging an unchanged file of the group", () => writeFileSync(file, unchanged.staged(), { mode: 0o600 }));
    }
  });
}

/** A trial's earlier staging goes before the file is made again (O_EXCL). */
function rmQuietly(file: string): void {
  step("clearing a staged file", () => rmSync(file, { force: true }));
}

/** Which changed members fail the check on their own (each new alone, the rest as installed); all of them when none does alone. */
async function culpritsOf(changed: ReadonlySet<number>, failsAlone: (alone: ReadonlySet<number>) => Promise<boolean>): Promise<number[]> {
  const culprits: number[] = [];
  for (const i of changed) if (await failsAlone(new Set([i]))) culprits.push(i);
  return culprits.length > 0 ? culprits : [...changed];
}

/**
 * Renames each changed staged file into place, the checked one (the first) last. When one fails,
 * those already in place are put back as they were: the group changes whole or not at all.
 */
async function installInOrder(members: readonly GroupMember[], names: readonly string[], seen: readonly Seen[], stageDir: string): Promise<GroupResult["members"]> {
  const results: GroupResult["members"] = seen.map((s) => ({ action: "unchanged", changed: false, previous: s.found.content }));
  const order = [...members.keys()].slice(1).concat(0).filter((i) => seen[i]?.changed);
  for (const [k, i] of order.entries()) {
    const s = seen[i] as Seen;
    try {
      const inPlace = await install(path.join(stageDir, names[i] as string), members[i]?.dest as string, s.next as FileContent, s.want);
      results[i] = { action: "written", changed: true, previous: s.found.content, ...(inPlace && { inPlace }), ...(s.warnings.length > 0 && { warning: s.warnings.join("; ") }) };
    } catch (err) {
      results[i] = { action: "failed", changed: true, previous: s.found.content, error: `cannot write ${members[i]?.dest}: ${describeStepFailure(err)}` };
      const why = `installing ${names[i]} of its check group failed`;
      for (const j of order.slice(0, k).reverse()) {
        const putBack = await putBackPrevious(members[j]?.dest as string, seen[j] as Seen, path.join(stageDir, `${names[j]}.previous`));
        results[j] = { action: "failed", changed: true, previous: seen[j]?.found.content ?? null, error: `${why}; ${putBack}` };
      }
      for (const j of order.slice(k + 1)) {
        results[j] = { action: "failed", changed: true, previous: seen[j]?.found.content ?? null, error: `not installed: ${why}` };
      }
      break;
    }
  }
  return results;
}

/** Restores a member installed before its group failed: its previous content, or no file where there was none. Says which state it is in. */
async function putBackPrevious(dest: string, s: Seen, stagePath: string): Promise<string> {
  const previous = s.found.content;
  try {
    if (previous === null) {
      step("removing it (it did not exist before)", () => rmSync(dest, { force: true }));
      return "it was removed again (it did not exist before)";
    }
    const fd = createStageFile(stagePath, s.want.mode);
    fillAndClose(fd, previous.staged(), s.want);
    await install(stagePath, dest, previous, s.want);
    return "it was put back to its previous content";
  } catch (err) {
    return `it holds the new content: putting back its previous content failed (${describeStepFailure(err)})`;
  }
}
