/**
 * `perch watch`: one initial listing into the mirror, a full pass, then the change stream applied
 * to the mirror in place. Only resources whose keys changed are rendered again, after their wait
 * window; passes never overlap. A compacted revision, a periodic resync or a config reload lists
 * again and applies only the differences. Nothing is rendered from partial data: the mirror only
 * changes by whole listings or by events in revision order.
 */
import { errorMessage, PerchErrors } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { Mirror } from "../mirror/mirror.js";
import { retireSpareShell } from "../command/spare-shell.js";
import { reloadCommands } from "../sync/reloads.js";
import { syncResources, type PassOptions, type PassReport } from "../sync/sync-resources.js";
import type { LoadedResource } from "../resource/load-set.js";
import { logStoreProblems } from "../store/problems.js";
import type { ChangeStream, Store, StreamSignal } from "../store/types.js";
import type { WaitWindow } from "../util/duration.js";
import { retryUntilStopped, STORE_RETRY } from "../util/retry.js";
import { RenderMemo } from "../template/memo.js";
import { Coalescer } from "./coalescer.js";
import { FailingResources } from "./failing-resources.js";
import type { Metrics } from "./metrics.js";
import { ReloadRetrier } from "./reload-retry.js";

export interface DaemonOptions {
  load: () => Promise<LoadedResource[]>;
  store: Store;
  wait: WaitWindow;
  intervalMs?: number;
  pass: Omit<PassOptions, "logger">;
  logger: Logger;
  metrics: Metrics;
  /** After each pass or listing (src/watch/idle-compaction.ts). */
  onSettled?: () => void;
  /** After a listing is in the mirror, before its pass (src/watch/idle-compaction.ts). */
  onListed?: () => void;
}

export class Daemon {
  private resources: LoadedResource[] = [];
  private mirror = new Mirror([]);
  /** Per resource, its last render's memo (incremental rendering); tied to the mirror's views. */
  private memos = new Map<string, RenderMemo>();
  private stream: ChangeStream | undefined;
  /** Bumped whenever the stream is replaced: signals from an older stream are ignored. */
  private generation = 0;
  private connected = false;
  private firstPassDone = false;
  /** Aborted by stop(): waits and retries end at once. */
  private readonly stopper = new AbortController();
  private passChain: Promise<unknown> = Promise.resolve();
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly coalescer: Coalescer;
  private readonly retrier: ReloadRetrier;
  private readonly failing: FailingResources;
  private readonly log: Logger;

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.logger;
    this.coalescer = new Coalescer((names) => this.enqueuePass(names));
    this.retrier = new ReloadRetrier(opts.logger, opts.metrics);
    this.failing = new FailingResources(() => this.enqueuePass([]), opts.metrics, opts.logger);
  }

  /** ready = the first full pass is done, the store's stream is connected and no resource is failing. */
  ready(): { ready: boolean; why: string } {
    if (!this.firstPassDone) return { ready: false, why: "initial sync not done" };
    if (!this.connected) return { ready: false, why: "store disconnected" };
    const failing = this.failing.describe();
    if (failing !== undefined) return { ready: false, why: failing };
    return { ready: true, why: "ready" };
  }

  /** Load the set, sync, and start streaming. A set that fails to load throws PerchErrors. */
  async start(): Promise<void> {
    this.resources = await this.opts.load();
    this.mirror = new Mirror(this.resources.map((r) => r.selection));
    await this.syncAndStream("initial");
    if (this.opts.intervalMs) this.scheduleResync();
  }

  /** SIGHUP: re-read conf.d and templates; a set that fails to load is refused and the old one kept. */
  async reloadConfig(): Promise<boolean> {
    let next: LoadedResource[];
    try {
      next = await this.opts.load();
    } catch (err) {
      const errors = err instanceof PerchErrors ? err.errors.map((e) => e.toString()) : [errorMessage(err)];
      this.log.error({ event: "config-reload", outcome: "refused", errors }, "new configuration refused; the running set is kept");
      this.opts.metrics.configReloads.inc({ outcome: "refused" });
      return false;
    }
    await this.serialized(async () => {
      this.resources = next;
      this.mirror = new Mirror(next.map((r) => r.selection));
      this.memos = new Map();
      this.coalescer.drain();
      this.failing.keepOnly(new Set(next.map((r) => r.name)));
      this.retrier.keepOnly(new Set(reloadCommands(next).keys()));
      this.log.info({ event: "config-reload", outcome: "applied", resources: next.map((r) => r.name) }, "configuration reloaded");
      this.opts.metrics.configReloads.inc({ outcome: "applied" });
      await this.syncAndStream("config-reload", true);
    });
    return true;
  }

  /** SIGTERM/SIGINT: stop the stream, finish the pass in flight, close the store. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopper.abort();
    this.coalescer.stop();
    this.retrier.stop();
    this.failing.stop();
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.generation++;
    await this.stream?.close().catch(() => undefined);
    await this.passChain.catch(() => undefined);
    await this.opts.store.close().catch(() => undefined);
    retireSpareShell();
    this.log.info({ event: "stop" }, "stopped");
  }

  /**
   * List (retrying with backoff until it works or the daemon stops), apply the differences to
   * the mirror, render what changed — everything on the initial sync — and stream from there.
   */
  private async syncAndStream(reason: string, inPass = false): Promise<void> {
    const generation = ++this.generation;
    await this.stream?.close().catch(() => undefined);
    this.stream = undefined;
    const prefixes = this.mirror.watchPrefixes();
    const snapshot = await this.retry(`list (${reason})`, () => this.opts.store.list(prefixes));
    if (snapshot === undefined || generation !== this.generation) return;
    logStoreProblems(this.log, snapshot.problems);
    const dirty = this.mirror.replace(snapshot.kvs, snapshot.revision);
    this.opts.onListed?.();
    if (reason !== "initial") this.opts.metrics.resyncs.inc({ reason });
    this.noteMirror();
    this.log.info({ event: "sync", reason, keys: this.mirror.size, revision: snapshot.revision, changedResources: [...dirty] }, "listed");
    const all = reason === "initial" || reason === "config-reload";
    const names = all ? this.resources.map((r) => r.name) : [...dirty];
    if (names.length > 0) {
      if (inPass) await this.pass(names);
      else await this.serialized(() => this.pass(names));
    }
    if (reason === "initial") this.firstPassDone = true;
    if (generation !== this.generation || this.stopping) return;
    this.stream = await this.opts.store.watch(prefixes, snapshot.revision, (signal) => this.onSignal(generation, signal));
  }

  private onSignal(generation: number, signal: StreamSignal): void {
    if (generation !== this.generation || this.stopping) return;
    switch (signal.type) {
      case "changes": {
        // No revision filter: etcd orders events within a prefix, not across prefixes, and a
        // stream replaced after a listing is silenced by its generation instead.
        this.opts.metrics.storeEvents.inc(signal.events.length);
        logStoreProblems(this.log, signal.problems);
        const dirty = this.mirror.apply(signal.events, signal.revision);
        this.noteMirror();
        this.log.debug({ event: "changes", count: signal.events.length, revision: signal.revision, dirty: [...dirty] }, "store changed");
        this.failing.changed(dirty);
        for (const name of dirty) this.coalescer.mark(name, this.waitFor(name));
        break;
      }
      case "compacted":
        this.log.warn({ event: "compacted", compactRevision: signal.compactRevision, revision: this.mirror.revision }, "resume revision was compacted; listing again");
        void this.serialized(() => this.syncAndStream("compacted", true)).catch((err) => this.log.error({ err: errorMessage(err) }, "resync failed"));
        break;
      case "connected":
        if (!this.connected) this.log.info({ event: "store", state: "connected", store: this.opts.store.kind }, "store connected");
        this.noteConnected(true);
        break;
      case "disconnected":
        if (this.connected) this.log.warn({ event: "store", state: "disconnected", err: errorMessage(signal.error) }, "store disconnected; the last good files stay");
        else this.log.debug({ event: "store", state: "disconnected", err: errorMessage(signal.error) }, "still disconnected");
        this.noteConnected(false);
        break;
    }
  }

  private waitFor(name: string): WaitWindow {
    return this.resources.find((r) => r.name === name)?.wait ?? this.opts.wait;
  }

  private enqueuePass(names: string[]): void {
    void this.serialized(() => this.pass(names));
  }

  /** Passes and resyncs run one at a time, in order; the coalescer holds changes meanwhile. */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.passChain.then(async () => {
      this.coalescer.pause();
      try {
        return await work();
      } finally {
        this.coalescer.resume();
        this.opts.onSettled?.();
      }
    });
    this.passChain = run.catch(() => undefined);
    return run;
  }

  private async pass(names: readonly string[]): Promise<PassReport | undefined> {
    if (this.stopping && this.firstPassDone) return undefined;
    // Failing resources are retried in every pass: a check may have failed because of a file this one writes.
    const wanted = new Set([...names, ...this.failing.names()]);
    const resources = this.resources.filter((r) => wanted.has(r.name));
    if (resources.length === 0) return undefined;
    const report = await syncResources(resources, this.mirror, { ...this.opts.pass, logger: this.log, memoFor: (name) => this.memoFor(name), knownFailures: this.failing.current(), spareShell: true });
    this.opts.metrics.observePass(report);
    if (!this.stopping) this.failing.afterPass(report.resources);
    for (const r of report.resources) if (r.diff) this.log.info({ event: "diff", resource: r.resource, diff: r.diff }, "diff");
    this.retrier.afterPass(report.reloads);
    return report;
  }

  private memoFor(name: string): RenderMemo {
    let memo = this.memos.get(name);
    if (memo === undefined) {
      memo = new RenderMemo(this.mirror.view(name));
      this.memos.set(name, memo);
    }
    return memo;
  }

  private scheduleResync(): void {
    this.resyncTimer = setTimeout(() => {
      void this.serialized(() => this.syncAndStream("interval", true))
        .catch((err) => this.log.error({ err: errorMessage(err) }, "periodic resync failed"))
        .finally(() => {
          if (!this.stopping) this.scheduleResync();
        });
    }, this.opts.intervalMs);
  }

  private noteMirror(): void {
    this.opts.metrics.appliedRevision.set(this.mirror.revision);
    this.opts.metrics.mirrorKeys.set(this.mirror.size);
  }

  /**
   * Retry with backoff until it works; undefined as soon as the daemon stops, even while an
   * attempt is still waiting on an unresponsive store (gRPC does not cancel it).
   */
  private async retry<T>(what: string, attempt: () => Promise<T>): Promise<T | undefined> {
    const value = await retryUntilStopped(attempt, {
      schedule: STORE_RETRY,
      stop: this.stopper.signal,
      onFailure: (err, retryInMs) => {
        this.noteConnected(false);
        this.log.warn({ event: "store", state: "unavailable", what, err: errorMessage(err), retryInMs }, `${what} failed; retrying`);
      },
    });
    if (value !== undefined) this.noteConnected(true);
    return value;
  }

  private get stopping(): boolean {
    return this.stopper.signal.aborted;
  }

  private noteConnected(connected: boolean): void {
    this.connected = connected;
    this.opts.metrics.storeConnected.set(connected ? 1 : 0);
  }
}
