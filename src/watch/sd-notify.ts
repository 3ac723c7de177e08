/**
 * systemd's notify protocol for `perch watch` in a Type=notify unit: STATUS= lines, READY=1 once the
 * first pass is done, WATCHDOG=1 every half WATCHDOG_USEC, STOPPING=1 on the way out. Without
 * $NOTIFY_SOCKET (not under systemd) it does nothing.
 *
 * Node has no AF_UNIX datagram sockets, so each message is sent by systemd's own `systemd-notify`,
 * which is wherever systemd is: no native addon to build on the target. It returns once the manager
 * has taken the message (its barrier), so messages go one at a time and arrive in order.
 */
import { execFile } from "node:child_process";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log/logger.js";

/** systemd-notify's own barrier waits up to 5 s; past this the manager is not reading. */
const SEND_TIMEOUT_MS = 10_000;

export interface ServiceManager {
  status(text: string): void;
  /** The first pass is done: units ordered after perch may start. */
  ready(status: string): void;
  /** Shutdown has begun. */
  stopping(status: string): void;
  /** Stops the watchdog and waits for the messages still queued. */
  close(): Promise<void>;
}

const NO_SERVICE_MANAGER: ServiceManager = {
  status: () => undefined,
  ready: () => undefined,
  stopping: () => undefined,
  close: async () => undefined,
};

/** What systemd gave this process to speak to it with. */
export type NotifyEnv = Partial<Record<(typeof NOTIFY_VARIABLES)[number], string>>;

const NOTIFY_VARIABLES = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] as const;

/**
 * Removes systemd's variables from `env` (as sd_notify's unset_environment does) and returns them:
 * a check or reload command, or a template's getenv, must not speak for perch to the service manager.
 */
export function takeNotifyEnv(env: NodeJS.ProcessEnv): NotifyEnv {
  const taken: NotifyEnv = {};
  for (const name of NOTIFY_VARIABLES) {
    taken[name] = env[name];
    delete env[name];
  }
  return taken;
}

export function connectServiceManager(env: NotifyEnv, logger: Logger): ServiceManager {
  const socket = env.NOTIFY_SOCKET;
  return socket ? new SystemdNotifier(socket, watchdogIntervalMs(env), logger) : NO_SERVICE_MANAGER;
}

/** Half the watchdog timeout, as sd_watchdog_enabled(3) advises; none when it is off or meant for another process. */
function watchdogIntervalMs(env: NotifyEnv): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== process.pid) return undefined;
  return Math.max(1, Math.floor(usec / 2_000));
}

class SystemdNotifier implements ServiceManager {
  private queue: Promise<void> = Promise.resolve();
  private readonly watchdog: NodeJS.Timeout | undefined;
  /** A ping still waiting to go: a slow manager gets one, not a backlog. */
  private pingQueued = false;
  private failed = false;

  constructor(
    private readonly socket: string,
    watchdogMs: number | undefined,
    private readonly logger: Logger,
  ) {
    if (watchdogMs !== undefined) this.watchdog = setInterval(() => this.ping(), watchdogMs).unref();
  }

  status(text: string): void {
    this.send([`STATUS=${oneLine(text)}`]);
  }

  ready(status: string): void {
    this.send(["READY=1", `STATUS=${oneLine(status)}`]);
  }

  stopping(status: string): void {
    clearInterval(this.watchdog);
    this.send(["STOPPING=1", `STATUS=${oneLine(status)}`]);
  }

  async close(): Promise<void> {
    clearInterval(this.watchdog);
    await this.queue;
  }

  private ping(): void {
    if (this.pingQueued) return;
    this.pingQueued = true;
    this.send(["WATCHDOG=1"], () => (this.pingQueued = false));
  }

  private send(assignments: string[], onSent?: () => void): void {
    this.queue = this.queue.then(async () => {
      onSent?.();
      await this.run(assignments);
    });
  }

  private run(assignments: string[]): Promise<void> {
    return new Promise((resolve) => {
      execFile("systemd-notify", assignments, { env: { ...process.env, NOTIFY_SOCKET: this.socket }, timeout: SEND_TIMEOUT_MS }, (err, _stdout, stderr) => {
        // Said once: the service runs on without its manager hearing from it, which the manager will notice.
        if (err && !this.failed) {
          this.failed = true;
          this.logger.warn({ event: "sd-notify", socket: this.socket, err: stderr.trim() || errorMessage(err) }, "cannot notify the service manager (systemd-notify)");
        }
        resolve();
      });
    });
  }
}

/** A STATUS= value ends at a newline: the protocol's separator. */
function oneLine(text: string): string {
  return text.replaceAll("\n", " ");
}
