/**
 * The etcd3 store's change stream: one raw gRPC watch stream, one watch per prefix. Not etcd3's
 * Watcher: it resumes from the revision in the last response's header (after a catch-up batch, the
 * store's revision, so a second break skips events) and drops a cancelled watch's compaction revision.
 *
 * Changes arrive in revision order under each prefix, in no order across prefixes; the prefixes are
 * disjoint, so applying them as they come still ends in etcd's state.
 */
import { Range, type IDuplexStream, type IEvent, type IWatchRequest, type IWatchResponse } from "etcd3";
import { PerchError } from "../../errors.js";
import { waitUnlessStopped } from "../../util/retry.js";
import type { ChangeEvent, ChangeStream, StoreProblem, StreamSignal } from "../types.js";
import { decodeKey, decodeValue } from "./utf8.js";
import type { EtcdClients } from "./failover.js";
import { ReconnectBackoff } from "./reconnect-backoff.js";

/** How long a reconnect may take to have every watch created before it is abandoned. */
const SETUP_TIMEOUT_MS = 15_000;

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

interface PrefixWatch {
  range: Range;
  prefix: string;
  /** The revision to (re)start from: one past the last one delivered or known to be passed. */
  next: number;
  /** etcd's id for this watch on the current stream. */
  id?: string;
}

/**
 * On a break it waits (ReconnectBackoff) and opens a new stream on the next endpoint, each watch
 * starting one past the last revision it delivered, so nothing is lost or repeated.
 */
export class EtcdChangeStream implements ChangeStream {
  private readonly watches: PrefixWatch[];
  private stream: WatchStream | undefined;
  /** Index of the watch whose create request is in flight: etcd answers creates in order. */
  private creating = 0;
  /** undefined until the first (dis)connection is reported; signals only report transitions. */
  private up: boolean | undefined;
  private readonly backoff: ReconnectBackoff;
  /** Counts connect attempts: a late answer to an abandoned one is recognised and ignored. */
  private attempt = 0;
  /** The endpoint (its index) of the latest attempt: the one to move on from when it breaks. */
  private endpoint = 0;
  private setupTimer: NodeJS.Timeout | undefined;
  /** Aborted by close(): ends the wait before a reconnect. */
  private readonly closing = new AbortController();

  constructor(
    private readonly clients: EtcdClients,
    prefixes: string[],
    afterRevision: number,
    private readonly onSignal: (signal: StreamSignal) => void,
    private readonly onClosed: () => void,
  ) {
    this.watches = prefixes.map((prefix) => ({ prefix, range: Range.prefix(prefix), next: afterRevision + 1 }));
    this.backoff = new ReconnectBackoff(clients.endpointList.length);
  }

  start(): void {
    if (this.watches.length > 0) void this.connect();
  }

  async close(): Promise<void> {
    this.stop();
  }

  private get closed(): boolean {
    return this.closing.signal.aborted;
  }

  private stop(): void {
    this.closing.abort();
    this.teardown();
    this.onClosed();
  }

  private async connect(): Promise<void> {
    const attempt = ++this.attempt;
    this.endpoint = this.clients.current;
    // An attempt that hangs (a call etcd never answers, a create it never confirms) is abandoned, with its client.
    this.setupTimer = setTimeout(() => {
      if (attempt !== this.attempt) return;
      this.attempt++;
      this.clients.dropClients();
      void this.broken(this.stream, new PerchError(`etcd at ${this.clients.endpoints} did not set up the watch within ${SETUP_TIMEOUT_MS / 1000} s`));
    }, SETUP_TIMEOUT_MS);
    let stream: WatchStream;
    try {
      // A unary read first: a watch stream cannot renew an expired auth token, a read makes etcd3
      // fetch one, and it picks the endpoint. One exact key: etcd 3.4 would count a whole prefix.
      const key = (this.watches[0] as PrefixWatch).range.start;
      this.endpoint = await this.clients.firstAnswering((client) => client.kv.range({ key, keys_only: true }));
      stream = await this.clients.clientAt(this.endpoint).watchClient.watch();
    } catch (err) {
      if (attempt === this.attempt) await this.broken(undefined, err);
      return;
    }
    if (attempt !== this.attempt) {
      // Abandoned meanwhile: a newer attempt owns the connection.
      stream.end();
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream
      .on("data", (res) => this.onResponse(stream, res))
      .on("error", (err) => void this.broken(stream, err))
      .on("end", () => void this.broken(stream, new Error("etcd ended the watch stream")));
    if (this.closed) {
      this.teardown();
      return;
    }
    this.creating = 0;
    this.sendCreate(stream);
  }

  private sendCreate(stream: WatchStream): void {
    const w = this.watches[this.creating] as PrefixWatch;
    stream.write({
      create_request: { key: w.range.start, range_end: w.range.end, start_revision: w.next, progress_notify: true },
    });
  }

  private onResponse(stream: WatchStream, res: IWatchResponse): void {
    if (stream !== this.stream) return;
    const w = res.created ? this.watches[this.creating] : this.watches.find((x) => x.id === res.watch_id);
    // Responses for no watch of ours (a stream-wide progress notification) carry nothing to apply.
    if (w === undefined) return;
    if (res.canceled) {
      this.onCanceled(stream, w, res);
    } else if (res.created) {
      w.id = res.watch_id;
      this.creating++;
      if (this.creating < this.watches.length) {
        this.sendCreate(stream);
      } else {
        clearTimeout(this.setupTimer);
        this.backoff.succeeded();
        this.up = true;
        this.deliver({ type: "connected" });
      }
    } else if (res.events.length === 0) {
      // A progress notification: etcd sends these only to watches that are fully caught up.
      w.next = Math.max(w.next, Number(res.header.revision) + 1);
    } else {
      const problems: StoreProblem[] = [];
      const events = res.events.flatMap((ev) => toChangeEvent(ev, problems) ?? []);
      const revision = Number((res.events.at(-1) as IEvent).kv.mod_revision);
      w.next = revision + 1;
      this.deliver({ type: "changes", events, revision, ...(problems.length > 0 && { problems }) });
    }
  }

  private onCanceled(stream: WatchStream, w: PrefixWatch, res: IWatchResponse): void {
    const compactRevision = Number(res.compact_revision);
    if (compactRevision > 0) {
      // The caller lists again and starts a new watch; this one is finished.
      this.stop();
      this.deliver({ type: "compacted", compactRevision });
      return;
    }
    const reason = res.cancel_reason || "no reason given";
    void this.broken(stream, new PerchError(`etcd at ${this.clients.endpoints} cancelled the watch on ${w.prefix}: ${reason}`, { key: w.prefix }));
  }

  private async broken(stream: WatchStream | undefined, err: unknown): Promise<void> {
    if (this.closed || stream !== this.stream) return;
    this.teardown();
    const error = await this.clients.explain(err);
    if (this.closed) return;
    if (this.up !== false) {
      this.up = false;
      this.deliver({ type: "disconnected", error });
    }
    // Whatever broke the stream, the next attempt goes to the next endpoint: a member that went
    // away is not tried again first, and a healthy one serves the same keys and revisions.
    this.clients.failedOver(this.endpoint);
    const next = this.backoff.failed();
    if (next.renewClient) this.clients.dropClients();
    if (await waitUnlessStopped(next.delayMs, this.closing.signal)) void this.connect();
  }

  private teardown(): void {
    clearTimeout(this.setupTimer);
    const stream = this.stream;
    this.stream = undefined;
    for (const w of this.watches) w.id = undefined;
    if (stream === undefined) return;
    // end() first: etcd3 marks a host as failed on a stream error while the stream is writable,
    // and the CANCELLED error of our own cancel() must not count against the host.
    stream.end();
    stream.cancel();
  }

  private deliver(signal: StreamSignal): void {
    try {
      this.onSignal(signal);
    } catch (err) {
      // A throwing consumer is a bug: surface it, but not inside gRPC's event dispatch.
      setImmediate(() => {
        throw err;
      });
    }
  }
}

/** A key that is not UTF-8 was never in the mirror: no event. A value that is not: the key goes, as in a listing. */
function toChangeEvent(ev: IEvent, problems: StoreProblem[]): ChangeEvent | undefined {
  const revision = Number(ev.kv.mod_revision);
  // A delete's key was reported when it was put.
  const key = decodeKey(ev.kv.key, ev.type === "Delete" ? [] : problems);
  if (key === undefined) return undefined;
  const value = ev.type === "Delete" ? undefined : decodeValue(key, ev.kv.value, problems);
  return value === undefined ? { type: "delete", key, revision } : { type: "put", key, value, revision };
}
