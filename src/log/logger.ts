/**
 * pino: one JSON object per event; readable lines when the stream is a terminal. pino-pretty is
 * loaded only then, so a CI render or a daemon pays nothing for it.
 */
import { pino, type Logger } from "pino";

export type { Logger } from "pino";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Lines a daemon may hold while its log reader is not keeping up (a stalled container log pipe):
 * past this, new lines are dropped rather than the memory grown further.
 */
const DAEMON_LOG_BUFFER_BYTES = 16 * 1024 * 1024;

export interface PerchLog {
  logger: Logger;
  /**
   * Writes what is held, even a write waiting to retry on a full pipe (pino's exit flush skips it), waiting at
   * most `timeoutMs`: a reader that stopped reading must not keep perch from exiting.
   */
  close(timeoutMs: number): Promise<void>;
}

/**
 * `daemon` (perch watch, stdout) writes asynchronously: a log line never delays an install, a stalled reader never stops
 * the daemon. `command` (stderr: stdout is the report) writes synchronously, so its lines interleave with the report.
 */
export async function createLogger(level: LogLevel, kind: "daemon" | "command"): Promise<PerchLog> {
  const fd = kind === "daemon" ? 1 : 2;
  const stream = fd === 1 ? process.stdout : process.stderr;
  const options = { level, base: undefined, redact: { paths: ["password", "*.password", "options.password"], censor: "[redacted]" } };
  if (stream.isTTY) {
    const { default: pretty } = await import("pino-pretty");
    const logger = pino(options, pretty({ destination: fd, sync: true, colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }));
    return { logger, close: async () => undefined };
  }
  const destination = kind === "daemon" ? pino.destination({ fd, sync: false, maxLength: DAEMON_LOG_BUFFER_BYTES }) : pino.destination({ fd, sync: true });
  // pino answers a broken pipe (EPIPE: nobody reads stdout any more) by turning the stream's
  // methods into no-ops, end() among them: there is then nothing to wait for, and no "close" comes.
  const end = destination.end;
  return {
    logger: pino(options, destination),
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
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
      }),
  };
}

/**
 * A logger that drops everything, for library callers and tests that do not care. Its own no-op
 * destination: pino's default opens stdout and registers an exit handler, at import.
 */
export const silentLogger: Logger = pino({ level: "silent" }, { write: () => undefined });
