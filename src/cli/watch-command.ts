/**
 * `perch watch`: the daemon, its signals (SIGHUP reloads conf.d and templates; SIGTERM/SIGINT
 * finish the pass in flight and exit 0), the status server, and — with the file backend — the
 * authoring loop: edits to conf.d/ or templates/ reload the set at once.
 */
import path from "node:path";
import type { Server } from "node:http";
import { setFlagsFromString } from "node:v8";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { LoadedResource } from "../resource/load-set.js";
import { retryUntilStopped, STORE_RETRY } from "../util/retry.js";
import { Daemon } from "../watch/daemon.js";
import { startIdleCompaction } from "../watch/idle-compaction.js";
import { Metrics } from "../watch/metrics.js";
import { connectServiceManager, type NotifyEnv } from "../watch/sd-notify.js";
import { EXIT } from "./exit.js";
import { openWatchingStore } from "./open-store.js";
import type { Config } from "./settings.js";
import { daemonV8Flags, sizeOptimizedThroughout } from "./v8-flags.js";
import { perchVersion } from "./version.js";

/** Editors save in bursts (write, rename, chmod): one reload per burst. */
const CONFIG_EDIT_DEBOUNCE_MS = 50;

export async function watchCommand(config: Config, load: () => Promise<LoadedResource[]>, env: Record<string, string | undefined>, logger: Logger, notifyEnv: NotifyEnv): Promise<number> {
  setDaemonV8Flags();
  const compaction = startIdleCompaction(sizeOptimizedThroughout());
  if (process.pid === 1) {
    logger.info({ event: "pid1" }, "running as PID 1: commands' shells reap their background jobs; a command that daemonizes (double fork) leaves its daemon to PID 1, so run perch under tini (docker run --init) if yours do")
  }
  // systemd (Type=notify), when perch runs under it: readiness, watchdog, status.
  const manager = connectServiceManager(notifyEnv, logger);
  // Set once the store is open; the signal handlers and /readyz exist before that.
  const started: { daemon?: Daemon } = {};
  const stopRequested = new AbortController();
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ event: "signal", signal }, "stopping after the pass in flight");
      manager.stopping(`stopping (${signal})`);
      stopRequested.abort();
      void (started.daemon ? started.daemon.stop() : Promise.resolve()).then(resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });

  const metrics = new Metrics(perchVersion());
  let server: Server | undefined;
  if (config.listen) {
    const readiness = { ready: () => started.daemon?.ready() ?? { ready: false, why: "store not reachable yet" } };
    // Imported only here: without --listen the daemon never loads node:http.
    const { startStatusServer } = await import("../watch/status-server.js");
    server = await startStatusServer(config.listen.host, config.listen.port, metrics, readiness);
    logger.info({ event: "listen", host: config.listen.host, port: config.listen.port }, "serving /metrics, /healthz, /readyz");
  }
  // The node container may start before etcd is reachable: keep trying, not ready meanwhile. A stop
  // wins over an attempt still waiting on an unresponsive server.
  const store = await retryUntilStopped(() => openWatchingStore(config, { env, logger }), {
    schedule: STORE_RETRY,
    stop: stopRequested.signal,
    onFailure: (err, retryInMs) => {
      logger.warn({ event: "store", state: "unavailable", err: errorMessage(err), retryInMs }, "cannot open the store; retrying");
      manager.status(`waiting for the store: ${errorMessage(err)}`);
    },
  });
  if (store === undefined) {
    server?.close();
    await manager.close();
    return EXIT.ok;
  }

  const running = new Daemon({
    load,
    store,
    wait: config.wait,
    intervalMs: config.intervalMs,
    logger,
    metrics,
    onSettled: () => compaction.settled(),
    onListed: () => compaction.now(),
    pass: {
      noop: config.noop,
      diff: config.diff,
      env,
      checkTimeoutMs: config.checkTimeoutMs,
      reloadTimeoutMs: config.reloadTimeoutMs,
      keepStageFile: config.keepStageFile,
      syncOnly: config.syncOnly,
      createDirs: config.root !== undefined,
    },
  });
  started.daemon = running;

  let hupChain = Promise.resolve();
  const reload = (why: string) => {
    logger.info({ event: "config-reload", trigger: why }, "reloading conf.d and templates");
    hupChain = hupChain.then(async () => {
      const applied = await running.reloadConfig();
      manager.status(applied ? `configuration reloaded (${why})` : `new configuration refused (${why}); the running set is kept`);
    });
  };
  process.on("SIGHUP", () => reload("SIGHUP"));

  let closeConfigWatch: (() => Promise<void>) | undefined;
  if (config.backend === "file") closeConfigWatch = await watchConfdir(config.confdir, () => reload("edit"));

  logger.info({ event: "start", store: store.kind, confdir: config.confdir }, "perch watch starting");
  let code: number = EXIT.ok;
  try {
    await running.start();
    if (!stopRequested.signal.aborted) manager.ready(`first pass done: ${running.ready().why}`);
    await stopped;
  } catch (err) {
    logger.error({ err: errorMessage(err) }, "could not start");
    await running.stop();
    code = EXIT.usage;
  }
  await hupChain;
  compaction.stop();
  await closeConfigWatch?.();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await manager.close();
  return code;
}

/**
 * The daemon's V8 flags (v8-flags.ts), for a run the launcher did not set them for. Among them: V8 doubles its
 * young generation whenever a scavenge finds much alive, as the initial listing makes it do, and a daemon keeps
 * those pages resident for good; set before the listing, only the daemon's stays at V8's initial size.
 */
function setDaemonV8Flags(): void {
  for (const flag of daemonV8Flags()) setFlagsFromString(flag);
}

async function watchConfdir(confdir: string, onEdit: () => void): Promise<() => Promise<void>> {
  const { watch } = await import("chokidar");
  const watcher = watch([path.join(confdir, "conf.d"), path.join(confdir, "templates")], {
    ignoreInitial: true,
    awaitWriteFinish: { stabilityThreshold: 20, pollInterval: 10 },
  });
  let timer: NodeJS.Timeout | undefined;
  watcher.on("all", () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(onEdit, CONFIG_EDIT_DEBOUNCE_MS);
  });
  await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return async () => {
    if (timer) clearTimeout(timer);
    await watcher.close();
  };
}
