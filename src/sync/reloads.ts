/** The reloads after a pass: each distinct reload_cmd once, in conf.d order. */
import { dirname } from "node:path";
import { fillPlaceholder } from "../command/placeholders.js";
import { runCommand, type CommandResult } from "../command/run-command.js";
import type { LoadedResource } from "../resource/load-set.js";
import { roundMs } from "./report.js";
import type { PassOptions } from "./sync-resources.js";

const DEFAULT_RELOAD_TIMEOUT_MS = 60_000;

export interface ReloadReport {
  command: string;
  /** The resources whose change asked for this reload. */
  resources: string[];
  timeoutMs: number;
  /** Where it ran (a retry runs there too). */
  cwd: string;
  result: CommandResult;
}

/** The distinct reload commands of `resources` (`{{.dest}}` filled in), each with the resources that share it. */
export function reloadCommands(resources: readonly LoadedResource[]): Map<string, string[]> {
  const commands = new Map<string, string[]>();
  for (const r of resources) {
    if (!r.reloadCmd) continue;
    const command = fillPlaceholder(r.reloadCmd, "dest", r.dest);
    commands.set(command, [...(commands.get(command) ?? []), r.name]);
  }
  return commands;
}

/** Runs the reload commands of the resources `written`; two resources sharing one reload once. */
export async function runReloads(written: readonly LoadedResource[], opts: PassOptions): Promise<ReloadReport[]> {
  const commands = reloadCommands(written);
  const reports: ReloadReport[] = [];
  for (const [command, resources] of commands) {
    const timeoutMs = Math.max(...written.filter((r) => resources.includes(r.name)).map((r) => r.reloadTimeoutMs ?? opts.reloadTimeoutMs ?? DEFAULT_RELOAD_TIMEOUT_MS));
    // In the destination's directory, as check_cmd (README "Resources"): a relative path in the
    // command means the same in both. A command shared by resources in several directories runs in
    // the first one's (conf.d order).
    const cwd = dirname((written.find((r) => r.name === resources[0]) as LoadedResource).dest);
    const result = await runCommand(command, { timeoutMs, cwd });
    const fields = { event: "reload", command, resources, outcome: result.ok ? "ok" : "failed", durationMs: roundMs(result.durationMs), exitCode: result.exitCode, output: result.output };
    // A failure is the caller's to report, once: perch render's report, the daemon's retry series (ReloadRetrier).
    if (result.ok) opts.logger.info(fields, "reloaded");
    else opts.logger.debug({ ...fields, timedOut: result.timedOut, err: result.error }, "reload failed");
    reports.push({ command, resources, timeoutMs, cwd, result });
  }
  return reports;
}
