// A process's footprint as the kernel counts it, read from /proc: resident memory, CPU time and
// wakeups (voluntary context switches: each is the thread going to sleep, so each is a wakeup after).
import { readdir, readFile } from "node:fs/promises";

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat on Linux. */
const CLOCK_TICKS_PER_S = 100;

/** VmRSS, VmHWM, RssAnon and RssFile of `pid`, KiB. */
export async function memoryOf(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (n) => Number(new RegExp(`^${n}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM"), anonKiB: field("RssAnon"), fileKiB: field("RssFile") };
}

/** User plus system CPU seconds `pid` has used (all its threads). */
export async function cpuSecondsOf(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces: the fields after it start past its ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/** Per thread of `pid`: {tid, name, voluntary, involuntary} context switches so far. */
export async function threadSwitchesOf(pid) {
  const out = [];
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    try {
      const status = await readFile(`/proc/${pid}/task/${tid}/status`, "utf8");
      const field = (n) => Number(new RegExp(`^${n}:\\s+(\\d+)`, "m").exec(status)?.[1]);
      // Node names most of its threads "node": the main thread (tid = pid) is told apart.
      const name = tid === String(pid) ? "main" : (/^Name:\s+(.*)$/m.exec(status)?.[1] ?? "?");
      out.push({ tid, name, voluntary: field("voluntary_ctxt_switches"), involuntary: field("nonvoluntary_ctxt_switches") });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** Slices of an idle window whose CPU seconds are given one by one: when the work was done. */
const IDLE_SLICE_MS = 10_000;

/**
 * What `pid` does while left alone for `ms`: CPU seconds used (in all, and per 10 s slice) and
 * wakeups (voluntary context switches, summed over its threads; by thread name as well, threads of
 * one name added up).
 */
export async function idleActivity(pid, ms, sleep) {
  const cpu0 = await cpuSecondsOf(pid);
  const before = new Map((await threadSwitchesOf(pid)).map((t) => [t.tid, t]));
  const cpuBySlice = [];
  let last = cpu0;
  for (let slept = 0; slept < ms; slept += IDLE_SLICE_MS) {
    await sleep(Math.min(IDLE_SLICE_MS, ms - slept));
    const now = await cpuSecondsOf(pid);
    cpuBySlice.push(Math.round((now - last) * 100) / 100);
    last = now;
  }
  const cpu1 = last;
  const after = await threadSwitchesOf(pid);
  const byThread = {};
  let wakeups = 0;
  for (const t of after) {
    const delta = t.voluntary - (before.get(t.tid)?.voluntary ?? 0);
    wakeups += delta;
    byThread[t.name] = (byThread[t.name] ?? 0) + delta;
  }
  const seconds = ms / 1000;
  return {
    seconds,
    cpuSeconds: Math.round((cpu1 - cpu0) * 100) / 100,
    cpuBySlice,
    wakeups,
    wakeupsPerSecond: Math.round((wakeups / seconds) * 10) / 10,
    wakeupsByThread: Object.fromEntries(Object.entries(byThread).sort(([, a], [, b]) => b - a)),
  };
}
