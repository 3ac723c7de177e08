/** check_cmd, run on the stage file before it is installed. */
import path from "node:path";
import { fillPlaceholder } from "../command/placeholders.js";
import { runCommand, type CommandResult } from "../command/run-command.js";

/**
 * Runs `command` with `{{.src}}` the stage file's absolute path, from `dir`, the destination's
 * directory: BIRD resolves a relative `include "bird_ipam.cfg"` from there, so the path must not be
 * relative to perch's own directory (`--root out`). `onSpawned` as in runCommand.
 */
export function runCheck(command: string, stage: string, dir: string, timeoutMs: number, onSpawned?: () => void): Promise<CommandResult> {
  return runCommand(fillPlaceholder(command, "src", path.resolve(stage)), { cwd: dir, timeoutMs, onSpawned });
}
