/**
 * Signals to a command's process group. A hard stop kills the members before their leader (the
 * shell), so that the shell, still alive, reaps them: a process whose parent dies with it goes to
 * PID 1, which perch may be, and Node reaps only its own children.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: every member of the group is already gone.
  }
}

/** /proc shows perch's own PID namespace (not so under `unshare --pid` without a /proc of its own). */
function procShowsOurPids(): boolean {
  try {
    return readlinkSync("/proc/self") === String(process.pid);
  } catch {
    return false;
  }
}

/** The members of group `pgid` other than its leader; undefined where /proc cannot tell. */
function membersBesidesLeader(pgid: number): number[] | undefined {
  if (!procShowsOurPids()) return undefined;
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === pgid) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so read after its last ')'.
    const [, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid) members.push(Number(entry));
  }
  return members;
}

/** How long the leader has to reap its killed members before it is killed too. */
const LEADER_REAP_MS = 100;

/**
 * SIGKILL to every member of group `pgid` but its leader, then, LEADER_REAP_MS later, to the whole
 * group; `done` is called after the last signal. Without a usable /proc, the whole group at once.
 */
export function killGroupLeaderLast(pgid: number, done: () => void): NodeJS.Timeout | undefined {
  const members = membersBesidesLeader(pgid);
  if (members === undefined || members.length === 0) {
    signalGroup(pgid, "SIGKILL");
    done();
    return undefined;
  }
  for (const member of members) {
    try {
      process.kill(member, "SIGKILL");
    } catch {
      // ESRCH: it ended between the listing and the signal.
    }
  }
  return setTimeout(() => {
    signalGroup(pgid, "SIGKILL");
    done();
  }, LEADER_REAP_MS);
}
