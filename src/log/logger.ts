/**
 * pino: one JSON object per event (`--log-format json`), or readable lines (`text`, pino-pretty,
 * loaded only then, so a CI render or a daemon in JSON pays nothing for it). The default is text on
 * a terminal, JSON otherwise.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { colourDiff } from "../write/diff.js";

export type { Logger } from "pino";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ["json", "text"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Lines a daemon may hold while its log reader is not keeping up (a stalled container log pipe):
 * past this, new lines are dropped rather than the memory grown further.
 */
const DAEMON_LOG_BUFFER_BYTES = 16 * 1024 * 1024;

/** Fields that may hold several lines of text (a command's output, an error quoting it): shown as text, not as an escaped string. */
const TEXT_FIELDS = ["output", "err"] as const;

export interface LogSettings {
  level: LogLevel;
  /**
   * `daemon` (perch watch, stdout) writes asynchronously: a log line never delays an install, a stalled reader never stops
   * the daemon. `command` (stderr: stdout is the report) writes synchronously, so its lines interleave with the report.
   */
  kind: "daemon" | "command";
  /** Undefined: text on a terminal, JSON otherwise. */
  format?: LogFormat;
}

export interface PerchLog {
  logger: Logger;
  /**
   * Writes what is held, even a write waiting to retry on a full pipe (pino's exit flush skips it), waiting at
   * most `timeoutMs`: a reader that stopped reading must not keep perch from exiting.
   */
  close(timeoutMs: number): Promise<void>;
}

export async function createLogger({ level, kind, format }: LogSettings): Promise<PerchLog> {
  const fd = kind === "daemon" ? 1 : 2;
  const terminal = (fd === 1 ? process.stdout : process.stderr).isTTY === true;
  const destination = kind === "daemon" ? pino.destination({ fd, sync: false, maxLength: DAEMON_LOG_BUFFER_BYTES }) : pino.destination({ fd, sync: true });
  const options: LoggerOptions = { level, base: undefined, redact: { paths: ["password", "*.password", "options.password"], censor: "[redacted]" } };
  const logger =
    (format ?? (terminal ? "text" : "json")) === "text"
      ? pino(options, await textStream(destination, terminal))
      : pino({ ...options, formatters: { level: (label) => ({ level: label }) }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  return { logger, close: closer(destination) };
}

/** pino-pretty into `destination`: coloured with the time of day on a terminal, plain with the full ISO time elsewhere (a log file). */
async function textStream(destination: DestinationStream, terminal: boolean): Promise<DestinationStream> {
  const { default: pretty } = await import("pino-pretty");
  return pretty({
    destination,
    colorize: terminal,
    translateTime: terminal ? "SYS:HH:MM:ss.l" : "SYS:yyyy-mm-dd'T'HH:MM:ss.lo",
    ignore: "pid,hostname",
    customPrettifiers: {
      ...Object.fromEntries(TEXT_FIELDS.map((field) => [field, asText])),
      diff: (value) => asText(terminal && typeof value === "string" ? colourDiff(value) : value),
    },
  });
}

/** A string as it reads, several lines as an indented block under the field's name; anything else as pino-pretty shows it. */
function asText(value: unknown): string {
  if (typeof value !== "string") return JSON.stringify(value, null, 2);
  const text = value.trimEnd();
  return text.includes("\n") ? `\n${text.replace(/^/gm, "  ")}` : text;
}

function closer(destination: ReturnType<typeof pino.destination>): PerchLog["close"] {
  // pino answers a broken pipe (EPIPE: nobody reads any more) by turning the stream's methods into
  // no-ops, end() among them: there is then nothing to wait for, and no "close" comes.
  const end = destination.end;
  return (timeoutMs) => new Promise<void>((resolve) => {
    if (destination.end !== end) {
      resolve();
      return;
    }
    const timer = setTimeout(resolve, timeoutMs);
    destination.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    destination.end();
  });
}

/**
 * A logger that drops everything, for library callers and tests that do not care. Its own no-op
 * destination: pino's default opens stdout and registers an exit handler, at import.
 */
export const silentLogger: Logger = pino({ level: "silent" }, { write: () => undefined });
