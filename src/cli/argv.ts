/** Command-line parsing: `perch COMMAND [flags]`, flags from the settings table. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { PerchError, PerchErrors } from "../errors.js";
import { SETTINGS, splitList, type RawSettings, type SettingName } from "./settings.js";

export const COMMANDS = {
  render: "render every resource once",
  watch: "render, then keep rendering as the store changes (the daemon)",
  check: "load every resource and template, list the keys each reads, report every problem",
  snapshot: "write the keys under each --prefix to a JSON file the file backend reads",
  convert: "translate confd Go templates into perch Handlebars templates (perch convert --help)",
} as const;

export type CommandName = keyof typeof COMMANDS;

export interface ParsedArgs {
  command: CommandName | undefined;
  flags: RawSettings;
}

export function parseArgv(argv: readonly string[]): ParsedArgs {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, spec] of Object.entries(SETTINGS)) {
    options[name] = {
      type: spec.kind === "boolean" ? "boolean" : "string",
      multiple: spec.kind === "list",
      ...("short" in spec ? { short: spec.short } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new PerchErrors([new PerchError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ""))]);
  }
  const [command, ...extra] = parsed.positionals;
  const errors: PerchError[] = [];
  if (command !== undefined && !(command in COMMANDS)) errors.push(new PerchError(`unknown command ${JSON.stringify(command)} (commands: ${Object.keys(COMMANDS).join(", ")})`));
  if (extra.length > 0) errors.push(new PerchError(`unexpected argument ${JSON.stringify(extra[0])}`));
  const flags: RawSettings = {};
  for (const [name, value] of Object.entries(parsed.values) as Array<[SettingName, string | boolean | string[]]>) {
    const spec = SETTINGS[name];
    if (command && command in COMMANDS && spec.commands !== "*" && !(spec.commands as readonly string[]).includes(command)) {
      errors.push(new PerchError(`--${name} does not apply to perch ${command}`));
    }
    flags[name] = Array.isArray(value) ? value.flatMap(splitList) : value;
  }
  if (errors.length > 0) throw new PerchErrors(errors);
  return { command: command as CommandName | undefined, flags };
}

export function usage(command?: CommandName): string {
  const lines = command ? [`usage: perch ${command} [flags]`, "", COMMANDS[command], "", "flags:"] : ["usage: perch COMMAND [flags]", "", "commands:"];
  if (!command) {
    for (const [name, what] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${what}`);
    lines.push("", "flags (see perch COMMAND --help for which apply):");
  }
  for (const [name, spec] of Object.entries(SETTINGS)) {
    if (command && spec.commands !== "*" && !(spec.commands as readonly string[]).includes(command)) continue;
    const flag = `${"short" in spec ? `-${spec.short}, ` : "    "}--${name}${"arg" in spec ? ` ${spec.arg}` : ""}`;
    const env = "env" in spec ? ` [$${spec.env}]` : "";
    lines.push(`  ${flag.padEnd(34)} ${spec.help}${env}`);
  }
  lines.push("", "exit status: 0 ok; 1 a resource or reload failed; 2 bad usage or configuration; 3 --exit-code and something would change");
  return lines.join("\n");
}
