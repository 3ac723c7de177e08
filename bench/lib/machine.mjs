// What the figures were measured on.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n")[0].trim() || "unknown";
}

export function describeMachine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: os.release(),
    platform: `${os.platform()} ${os.arch()}`,
    etcd: firstLine("/usr/bin/etcd", ["--version"]),
    bird: firstLine("bird", ["--version"]),
    // Node loads these certificates at every start (this workplace sets it): part of every cold figure.
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ?? null,
  };
}

/**
 * The machine's CPU time so far, from /proc/stat's "cpu" line (clock ticks): all of it, and the
 * share "steal" — time a virtual CPU was ready to run but the hypervisor ran something else.
 * undefined where there is no /proc/stat.
 */
export function cpuTimes() {
  let line;
  try {
    line = readFileSync("/proc/stat", "utf8").split("\n")[0];
  } catch {
    return undefined;
  }
  // cpu user nice system idle iowait irq softirq steal (guest and guest_nice are inside user and nice)
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
}

/** Steal as a percentage of the CPU time between two cpuTimes() readings. */
export function stealPercent(from, to) {
  if (from === undefined || to === undefined || to.total <= from.total) return undefined;
  return (100 * (to.steal - from.steal)) / (to.total - from.total);
}
