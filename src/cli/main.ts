/** perch's command line: parse, configure, load the resource set, dispatch (run by entry.ts). */
import { readFileSync } from "node:fs";
import { errorMessage, PerchErrors } from "../errors.js";
import { createLogger } from "../log/logger.js";
import { loadResourceSet } from "../resource/load-set.js";
import { resolveNodeName } from "../resource/node-name.js";
import { parseArgv, usage, type ParsedArgs } from "./argv.js";
import { confdUsage, isConfdInvocation, translateConfd } from "./confd-compat.js";
import { EXIT } from "./exit.js";
import { resolveConfig, type RawSettings } from "./settings.js";

const DAEMONS: ReadonlySet<string> = new Set(["watch"]);
/** How long an exiting daemon waits for its log reader to take the last lines. */
const LOG_CLOSE_TIMEOUT_MS = 2_000;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** `program` is how perch was invoked (argv[1]): as `confd`, it takes confd's command line. */
export async function main(argv: readonly string[], program = ""): Promise<number> {
  // convert takes positional paths and none of the store settings: it parses its own command line.
  if (argv[0] === "convert") return (await import("./convert-command.js")).convertCommand(argv.slice(1));
  const confd = isConfdInvocation(argv, program);
  let parsed: ParsedArgs & { below?: RawSettings };
  try {
    parsed = confd ? translateConfd(argv, process.env) : parseArgv(argv);
  } catch (err) {
    process.stderr.write(`perch: ${errorMessage(err).replaceAll("\n", "\nperch: ")}\n\n${confd ? confdUsage() : usage()}\n`);
    return EXIT.usage;
  }
  const { command, flags } = parsed;
  if (flags.version) {
    process.stdout.write(`perch ${version()}\n`);
    return EXIT.ok;
  }
  if (flags.help || command === undefined) {
    (flags.help ? process.stdout : process.stderr).write(`${confd ? confdUsage() : usage(command)}\n`);
    return flags.help ? EXIT.ok : EXIT.usage;
  }
  let config;
  try {
    config = resolveConfig(command, flags, process.env, parsed.below);
  } catch (err) {
    process.stderr.write(`perch ${command}: ${errorMessage(err).replaceAll("\n", `\nperch ${command}: `)}\n`);
    return EXIT.usage;
  }
  // Logs go to stderr for one-shot commands, whose stdout is their report; the daemon logs to stdout.
  const log = await createLogger(config.logLevel, DAEMONS.has(command) ? "daemon" : "command");
  const { logger } = log;
  const nodeName = resolveNodeName(config.nodeName, process.env);
  // What getenv sees: the environment with NODENAME resolved, and without the etcd password.
  const { ETCD_PASSWORD: _password, ...visible } = process.env;
  const env = { ...visible, NODENAME: nodeName };
  const load = () => loadResourceSet({ confdir: config.confdir, nodeName, globalPrefix: config.prefix[0], root: config.root, only: config.only });
  // Each command's modules are imported when it runs: a one-shot render must not pay for the
  // daemon's metrics, chokidar or the etcd client at start-up.
  try {
    if (command === "check") return await (await import("./check-command.js")).checkCommand(config, nodeName);
    if (command === "snapshot") return await (await import("./snapshot-command.js")).snapshotCommand(config, logger);
    if (command === "watch") return await (await import("./watch-command.js")).watchCommand(config, load, env, logger);
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
    logger.error({ err: errorMessage(err) }, "failed");
    process.stderr.write(`perch ${command}: ${errorMessage(err)}\n`);
    return EXIT.failed;
  } finally {
    // The daemon's log is written asynchronously: its last lines go out before perch exits.
    if (DAEMONS.has(command)) await log.close(LOG_CLOSE_TIMEOUT_MS);
  }
}
