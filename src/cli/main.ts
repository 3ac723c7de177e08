/** perch's command line: parse, configure, load the resource set, dispatch (run by entry.ts). */
import { errorMessage, PerchErrors } from "../errors.js";
import { createLogger } from "../log/logger.js";
import { loadResourceSet } from "../resource/load-set.js";
import { resolveNodeName } from "../resource/node-name.js";
import { takeNotifyEnv } from "../watch/sd-notify.js";
import { COMMANDS, helpHint, parseArgv, usage, UsageError, type ParsedArgs } from "./argv.js";
import { confdHelpHint, confdUsage, isConfdInvocation, translateConfd } from "./confd-compat.js";
import { EXIT } from "./exit.js";
import { resolveConfig, type RawSettings } from "./settings.js";
import { perchVersion } from "./version.js";

const DAEMONS: ReadonlySet<string> = new Set(["watch"]);
/** How long an exiting daemon waits for its log reader to take the last lines. */
const LOG_CLOSE_TIMEOUT_MS = 2_000;

/** `program` is how perch was invoked (argv[1]): as `confd`, it takes confd's command line. */
export async function main(argv: readonly string[], program = ""): Promise<number> {
  // convert takes positional paths and none of the store settings: it parses its own command line.
  if (argv[0] === "convert") return (await import("./convert-command.js")).convertCommand(argv.slice(1));
  const confd = isConfdInvocation(argv, program);
  let parsed: ParsedArgs & { below?: RawSettings };
  try {
    parsed = confd ? translateConfd(argv, process.env) : parseArgv(argv);
  } catch (err) {
    // The problem and where help is, not the whole help: the problem would scroll out of sight.
    const hint = confd ? confdHelpHint(program) : helpHint(err instanceof UsageError ? err.command : undefined);
    process.stderr.write(`perch: ${errorMessage(err).replaceAll("\n", "\nperch: ")}\n${hint}\n`);
    return EXIT.usage;
  }
  const { command, flags } = parsed;
  if (flags.version) {
    process.stdout.write(`perch ${perchVersion()}\n`);
    return EXIT.ok;
  }
  if (flags.help) {
    process.stdout.write(`${confd ? confdUsage() : usage(command)}\n`);
    return EXIT.ok;
  }
  if (command === undefined) {
    process.stderr.write(`perch: no command given (commands: ${Object.keys(COMMANDS).join(", ")})\n${helpHint()}\n`);
    return EXIT.usage;
  }
  let config;
  try {
    config = resolveConfig(command, flags, process.env, parsed.below);
  } catch (err) {
    process.stderr.write(`perch ${command}: ${errorMessage(err).replaceAll("\n", `\nperch ${command}: `)}\n`);
    return EXIT.usage;
  }
  // Logs go to stderr for one-shot commands, whose stdout is their report; the daemon logs to stdout.
  const log = await createLogger({ level: config.logLevel, kind: DAEMONS.has(command) ? "daemon" : "command", format: config.logFormat });
  const { logger } = log;
  const nodeName = resolveNodeName(config.nodeName, process.env);
  // systemd's notify socket is perch's alone: taken out of the environment before anything runs.
  const notifyEnv = takeNotifyEnv(process.env);
  // What getenv sees: the environment with NODENAME resolved, and without the etcd password.
  const { ETCD_PASSWORD: _password, ...visible } = process.env;
  const env = { ...visible, NODENAME: nodeName };
  const load = () => loadResourceSet({ confdir: config.confdir, nodeName, globalPrefix: config.prefix[0], root: config.root, only: config.only });
  // Each command's modules are imported when it runs: a one-shot render must not pay for the
  // daemon's metrics, chokidar or the etcd client at start-up.
  try {
    if (command === "check") return await (await import("./check-command.js")).checkCommand(config, nodeName);
    if (command === "snapshot") return await (await import("./snapshot-command.js")).snapshotCommand(config, logger);
    if (command === "watch") return await (await import("./watch-command.js")).watchCommand(config, load, env, logger, notifyEnv);
    let resources;
    try {
      resources = await load();
    } catch (err) {
      const errors = err instanceof PerchErrors ? err.errors.map((e) => e.toString()) : [errorMessage(err)];
      for (const e of errors) process.stderr.write(`perch ${command}: ${e}\n`);
      return EXIT.usage;
    }
    return await (await import("./render-command.js")).renderCommand(config, resources, env, logger);
  } catch (err) {
    // The line below is a one-shot's report of it; the daemon's log is its record (report.ts, failureLevel).
    logger[DAEMONS.has(command) ? "error" : "debug"]({ err: errorMessage(err) }, "failed");
    process.stderr.write(`perch ${command}: ${errorMessage(err)}\n`);
    return EXIT.failed;
  } finally {
    // The daemon's log is written asynchronously: its last lines go out before perch exits.
    if (DAEMONS.has(command)) await log.close(LOG_CLOSE_TIMEOUT_MS);
  }
}
