/** Command-line parsing: `perch COMMAND [flags]`, flags from the settings table. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { PerchError, PerchErrors } from "../errors.js";
import { didYouMean } from "../util/closest.js";
import { EXIT, EXIT_SUMMARY } from "./exit.js";
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

/** A command line perch cannot take: its first problem, and the command whose --help would help. */
export class UsageError extends PerchErrors {
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super([new PerchError(message)]);
    this.name = "UsageError";
  }
}

type Token = NonNullable<ReturnType<typeof parseArgs<{ tokens: true; strict: false; allowPositionals: true }>>["tokens"]>[number];
type OptionToken = Extract<Token, { kind: "option" }>;

/** Throws UsageError on the first problem, in the order of the command line. */
export function parseArgv(argv: readonly string[]): ParsedArgs {
  // Not strict: node:util's own errors stop at the first unknown flag without naming the near ones.
  const { values, positionals, tokens } = parseArgs({ args: [...argv], options: parseOptions(), allowPositionals: true, strict: false, tokens: true });
  const command = commandOf(positionals[0]);
  let positionalsSeen = 0;
  for (const token of tokens) {
    if (token.kind === "option") checkFlag(token, command);
    else if (token.kind === "positional" && ++positionalsSeen > 1) throw new UsageError(`unexpected argument ${JSON.stringify(token.value)}`, command);
  }
  const flags: RawSettings = {};
  for (const [name, value] of Object.entries(values) as Array<[SettingName, string | boolean | Array<string | boolean>]>) {
    flags[name] = Array.isArray(value) ? value.flatMap((v) => splitList(String(v))) : value;
  }
  return { command, flags };
}

function parseOptions(): NonNullable<ParseArgsConfig["options"]> {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, spec] of Object.entries(SETTINGS)) {
    options[name] = {
      type: spec.kind === "boolean" ? "boolean" : "string",
      multiple: spec.kind === "list",
      ...("short" in spec ? { short: spec.short } : {}),
    };
  }
  return options;
}

function commandOf(word: string | undefined): CommandName | undefined {
  if (word === undefined || word in COMMANDS) return word as CommandName | undefined;
  const hint = didYouMean(word, Object.keys(COMMANDS), "") || ` (commands: ${Object.keys(COMMANDS).join(", ")})`;
  throw new UsageError(`unknown command ${JSON.stringify(word)}${hint}`);
}

function checkFlag(token: OptionToken, command: CommandName | undefined): void {
  const { name, rawName, value, inlineValue } = token;
  const spec = Object.hasOwn(SETTINGS, name) ? SETTINGS[name as SettingName] : undefined;
  if (spec === undefined) throw new UsageError(`unknown flag ${rawName}${didYouMean(name, flagsOf(command), "--")}`, command);
  if (spec.kind === "boolean") {
    if (inlineValue === true) throw new UsageError(`${rawName} takes no value, got ${rawName}=${value ?? ""}`, command);
  } else if (value === undefined) {
    throw new UsageError(`${rawName} needs a value: ${rawName} ${"arg" in spec ? spec.arg : "VALUE"}`, command);
  } else if (inlineValue !== true && value.length > 1 && value.startsWith("-")) {
    // As node:util's strict mode: `--keys --noop` is a forgotten value more often than a file named --noop.
    throw new UsageError(`${rawName} needs a value, got the flag ${value} (write ${rawName}=${value} if that is the value)`, command);
  }
  if (command !== undefined && !appliesTo(name as SettingName, command)) throw new UsageError(`--${name} does not apply to perch ${command}`, command);
}

function appliesTo(name: SettingName, command: CommandName): boolean {
  const { commands } = SETTINGS[name];
  return commands === "*" || (commands as readonly string[]).includes(command);
}

/** The flags `command` takes (every flag before a command is named). */
function flagsOf(command: CommandName | undefined): SettingName[] {
  return (Object.keys(SETTINGS) as SettingName[]).filter((name) => command === undefined || appliesTo(name, command));
}

/** The line under a usage error: where the whole story is. */
export function helpHint(command?: CommandName): string {
  return command === undefined ? "Run 'perch --help' for the commands and their flags." : `Run 'perch ${command} --help' for its flags.`;
}

export function usage(command?: CommandName): string {
  const lines = command ? [`usage: perch ${command} [flags]`, "", COMMANDS[command], "", "flags:"] : ["usage: perch COMMAND [flags]", "", "commands:"];
  if (!command) {
    for (const [name, what] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${what}`);
    lines.push("", "flags (see perch COMMAND --help for which apply):");
  }
  for (const name of flagsOf(command)) {
    const spec = SETTINGS[name];
    const flag = `${"short" in spec ? `-${spec.short}, ` : "    "}--${name}${"arg" in spec ? ` ${spec.arg}` : ""}`;
    const env = "env" in spec ? ` [$${spec.env}]` : "";
    lines.push(`  ${flag.padEnd(34)} ${spec.help}${env}`);
  }
  const statuses = (Object.keys(EXIT) as Array<keyof typeof EXIT>).map((k) => `${EXIT[k]} ${EXIT_SUMMARY[k]}`);
  lines.push("", `exit status: ${statuses.join("; ")}`);
  return lines.join("\n");
}
