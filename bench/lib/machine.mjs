// What the figures were measured on.
import { spawnSync } from "node:child_process";
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
