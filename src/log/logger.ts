/**
 * pino: one JSON object per event; readable lines when the stream is a terminal. pino-pretty is
 * loaded only then, so a CI render or a daemon pays nothing for it.
 */
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger } from "pino";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export async function createLogger(level: LogLevel, fd: 1 | 2 = 1): Promise<Logger> {
  const stream = fd === 1 ? process.stdout : process.stderr;
  let destination: DestinationStream = pino.destination({ fd, sync: true });
  if (stream.isTTY) {
    const { default: pretty } = await import("pino-pretty");
    destination = pretty({ destination: fd, sync: true, colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" });
  }
  return pino({ level, base: undefined, redact: { paths: ["password", "*.password", "options.password"], censor: "[redacted]" } }, destination);
}

/** A logger that drops everything, for library callers and tests that do not care. */
export const silentLogger: Logger = pino({ level: "silent" });
