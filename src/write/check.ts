/** check_cmd, run on the stage file before it is installed. */
import path from "node:path";
import { fillPlaceholder } from "../command/placeholders.js";
import { runCommand, type CommandResult } from "../command/run-command.js";

/**
 * From `dir`, the destination's directory, where BIRD resolves a relative `include`; so `{{.src}}`
 * is the stage file's absolute path, not one relative to perch's own directory (`--root out`).
 */
export function runCheck(command: string, stage: string, dir: string, timeoutMs: number, onSpawned?: () => void, spare?: boolean): Promise<CommandResult> {
  return runCommand(fillPlaceholder(command, "src", path.resolve(stage)), { cwd: dir, timeoutMs, onSpawned, spare });
}
