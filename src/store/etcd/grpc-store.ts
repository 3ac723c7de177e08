/**
 * The etcd v3 store. Loaded with `await import()` only when the etcd backend is chosen: etcd3
 * (gRPC, protobuf) takes a noticeable time to load, and the file backend never needs it.
 *
 * Watches do not use etcd3's Watcher: it resumes from the revision in the *header* of the last
 * response (for a creation or a catch-up batch that is the store's current revision, not the last
 * event delivered, so a second break during catch-up skips events) and it drops the compaction
 * revision of a cancelled watch. Instead each change stream drives one raw gRPC watch stream.
 *
 * Order: under each prefix, changes arrive in revision order. Across prefixes etcd gives no order:
 * a watch still catching up on history (after a start or a reconnect) can deliver after another
 * prefix's newer changes. The prefixes are disjoint, so applying the changes as they come still
 * ends in etcd's state; only a revision taken from one signal says nothing about other prefixes.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import * as tls from "node:tls";
import {
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  Etcd3,
  GRPCDeadlineExceededError,
  GRPCResourceExhastedError,
  GRPCUnavailableError,
  isRecoverableError,
  Range,
  type IDuplexStream,
  type IEvent,
  type IOptions,
  type IWatchRequest,
  type IWatchResponse,
} from "etcd3";
import { isBrokenCircuitError, noop } from "cockatiel";
import { PerchError } from "../../errors.js";
import { disjointPrefixes, LIST_PAGE_SIZE } from "./listing.js";
import { endpointUrl, type EtcdConnection } from "./target.js";
import { firstToAnswer } from "./first-to-answer.js";
import { INITIAL_BACKOFF_MS, MAX_BACKOFF_MS, ReconnectBackoff } from "./reconnect-backoff.js";
import type { ChangeEvent, ChangeStream, KeyValue, Snapshot, Store, StreamSignal } from "../types.js";

export interface EtcdStoreOptions extends EtcdConnection {
  /** Bound on establishing the first connection (default 5000). */
  dialTimeoutMs?: number;
  /** Deadline of each request (default 10000). */
  requestTimeoutMs?: number;
  /** Keys per range request when listing (default 1000). */
  pageSize?: number;
}

/**
 * grpc-js passes an IP-address endpoint to TLS as the server name, and Node then warns (DEP0123)
 * on every connection. The warning is noise to perch's users — the server certificate is still
 * verified against the address — so only that one warning is dropped.
 */
function silenceIpServerNameWarning(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, second, third] = args;
    const code = typeof second === "object" && second !== null ? (second as { code?: string }).code : third;
    if (code !== "DEP0123") emit(...args);
  }) as typeof process.emitWarning;
}
silenceIpServerNameWarning();

/** How long a reconnect may take to have every watch created before it is abandoned. */
const SETUP_TIMEOUT_MS = 15_000;
const LIST_ATTEMPTS = 3;

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

export async function createEtcdStore(options: EtcdStoreOptions): Promise<Store> {
  const conn = await Connection.open(options);
  return new EtcdStore(conn, options.pageSize ?? LIST_PAGE_SIZE);
}

/**
 * One etcd3 client per endpoint, the endpoint in use, and what is needed to explain errors in a
 * user's terms. Calls and streams go to one endpoint at a time and move on to the next when it
 * fails, as etcd's own Go client keeps to one endpoint: given several hosts, etcd3 picks one at
 * random for every call and stream, so a member that is down without refusing connections (its
 * machine off, a firewall dropping packets) held one call in n up to the request deadline and one
 * watch reconnect in n up to the set-up timeout, and failed perch's start one time in n. The
 * clients (whose options hold the password) and the key material live in #private fields, which
 * neither util.inspect nor a logger's serializer can reach.
 */
class Connection {
  /** Made when first used; undefined again after renew. */
  #clients: Array<Etcd3 | undefined> = [];
  /** Index of the endpoint in use (see failedOver). */
  #current = 0;
  readonly #credentials: IOptions["credentials"];
  readonly endpoints: string;

  private constructor(
    private readonly makeClient: (endpoint: string) => Etcd3,
    readonly endpointList: readonly string[],
    private readonly username: string | undefined,
    credentials: IOptions["credentials"],
    private readonly caFileGiven: boolean,
  ) {
    this.#credentials = credentials;
    this.endpoints = endpointList.join(", ");
  }

  /** Index of the endpoint in use: the one that answered the probe, or the next after a failure. */
  get current(): number {
    return this.#current;
  }

  clientAt(index: number): Etcd3 {
    return (this.#clients[index] ??= this.makeClient(this.endpointList[index] as string));
  }

  /**
   * Endpoint `index` failed: what comes next goes to the one after it. A failure on an endpoint
   * that is no longer in use (another call moved on meanwhile) moves nothing.
   */
  failedOver(index: number): void {
    if (index === this.#current) this.#current = (index + 1) % this.endpointList.length;
  }

  /**
   * `call` with the client of the endpoint in use. When the endpoint fails (unreachable, no answer
   * by the deadline, its circuit breaker open), again with the next one: once per endpoint, and at
   * least three times (etcd3's own retry, which one endpoint keeps).
   */
  async run<T>(call: (client: Etcd3) => Promise<T>): Promise<T> {
    const attempts = Math.max(3, this.endpointList.length);
    for (let attempt = 1; ; attempt++) {
      const index = this.#current;
      try {
        return await call(this.clientAt(index));
      } catch (err) {
        if (attempt >= attempts || !isEndpointFailure(err)) throw err;
        this.failedOver(index);
      }
    }
  }

  /**
   * `ask` of the endpoint in use and, should it fail or not answer within 250 ms, of the next ones
   * beside it (firstToAnswer): the first to answer becomes the endpoint in use, and its index is
   * the result. A member that answers nothing costs 250 ms rather than the request deadline.
   */
  async firstAnswering(ask: (client: Etcd3) => Promise<unknown>): Promise<number> {
    const count = this.endpointList.length;
    const start = this.#current;
    const asking = async (k: number): Promise<number> => {
      const index = (start + k) % count;
      await ask(this.clientAt(index));
      return index;
    };
    // A wrong password or CA is wrong for every member: reported as soon as one says so.
    const { value } = await firstToAnswer(count, asking, { isFatal: (err) => !isEndpointFailure(err) });
    this.#current = value;
    return value;
  }

  /**
   * Fresh clients, after reconnecting kept failing: whatever state the old ones are stuck in (a
   * circuit breaker, a token exchange, a gRPC channel) goes with them.
   */
  renew(): void {
    this.close();
  }

  close(): void {
    for (const client of this.#clients) client?.close();
    this.#clients = [];
  }

  static async open(options: EtcdStoreOptions): Promise<Connection> {
    if (options.endpoints.length === 0) throw new PerchError("no etcd endpoints given (set ETCD_ENDPOINTS)");
    for (const endpoint of options.endpoints) endpointUrl(endpoint);
    const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    const credentials = await readCredentials(options);
    const etcdOptions: Omit<IOptions, "hosts"> = {
      credentials,
      // One try per call: Connection.run retries, on the next endpoint when this one failed.
      faultHandling: { global: noop },
      // Streams are long-lived; every other call (including the auth token exchange) gets a deadline.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
      grpcOptions: {
        // A half-open TCP connection (peer gone without a FIN) would otherwise stall a watch forever.
        "grpc.keepalive_time_ms": 30_000,
        "grpc.keepalive_timeout_ms": 10_000,
        // gRPC's own reconnect backoff grows to two minutes; ours is capped at five seconds.
        "grpc.initial_reconnect_backoff_ms": INITIAL_BACKOFF_MS,
        "grpc.max_reconnect_backoff_ms": MAX_BACKOFF_MS,
        // grpc-js refuses messages over 4 MiB by default, so one large value (etcd takes values up
        // to its --max-request-bytes) would break every listing and every watch resumed before it,
        // for ever. etcd's own Go client accepts up to 2 GiB; so does perch.
        "grpc.max_receive_message_length": 2 ** 31 - 1,
      },
    };
    if (options.username !== undefined || options.password !== undefined) {
      if (options.username === undefined || options.password === undefined) {
        throw new PerchError("etcd user name and password go together: set both ETCD_USERNAME and ETCD_PASSWORD, or neither");
      }
      etcdOptions.auth = { username: options.username, password: options.password };
    }
    // etcd3 given several hosts refuses this mix; one client per endpoint would take it, and speak
    // TLS to some members only. With TLS files every endpoint gets TLS, as with etcd3.
    const https = options.endpoints.filter((e) => endpointUrl(e).protocol === "https:").length;
    if (credentials === undefined && https > 0 && https < options.endpoints.length) {
      throw new PerchError(`cannot use etcd endpoints ${options.endpoints.join(", ")}: a mix of http:// and https:// endpoints`);
    }
    const makeClient = (endpoint: string) => new Etcd3({ ...etcdOptions, hosts: endpoint });
    const conn = new Connection(makeClient, options.endpoints, options.username, credentials, options.caFile !== undefined);
    await conn.probe(options.dialTimeoutMs ?? 5000);
    return conn;
  }

  /**
   * One request within the dial timeout, so a wrong endpoint, CA or password is reported at start
   * rather than on first use; the first endpoint to answer is the one in use (firstAnswering).
   * Status needs no key permissions, but authenticating still happens.
   */
  private async probe(dialTimeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PerchError(`etcd at ${this.endpoints} did not answer within the dial timeout of ${dialTimeoutMs} ms`)),
        dialTimeoutMs,
      );
    });
    // The calls' own deadline comes after the dial timeout, whose message (naming the dial
    // timeout) must be the one reported rather than gRPC's: close() ends the calls then.
    const deadline = Date.now() + dialTimeoutMs + 1000;
    try {
      await Promise.race([this.firstAnswering((client) => client.maintenance.status({ deadline })), timedOut]);
    } catch (err) {
      this.close();
      throw await this.explain(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Turn an etcd3/gRPC error into one that says what is wrong, naming the endpoints. */
  async explain(err: unknown): Promise<PerchError> {
    if (err instanceof PerchError) return err;
    const where = `etcd at ${this.endpoints}`;
    const detail = messageOf(err);
    let message: string;
    if (err instanceof EtcdAuthenticationFailedError) {
      message = `${where}: authentication failed for user "${this.username ?? ""}": wrong user name or password`;
    } else if (err instanceof EtcdPermissionDeniedError) {
      message = `${where}: permission denied (does the user have read access to the keys?): ${detail}`;
    } else if (detail.includes("user name is empty")) {
      message = `${where} requires authentication: set ETCD_USERNAME and ETCD_PASSWORD (${detail})`;
    } else if (err instanceof GRPCDeadlineExceededError) {
      message = `${where}: request timed out (${detail})`;
    } else if (detail.includes("circuit breaker is open")) {
      message = `${where} is unavailable after repeated failures; requests pause for a few seconds before the next try`;
    } else if (/ECONNREFUSED/.test(detail)) {
      message = `cannot connect to ${where}: connection refused (is etcd running and listening there?)`;
    } else if (err instanceof GRPCUnavailableError) {
      // grpc-js adds a timestamp and an empty "Resolution note" that say nothing to a user.
      const plain = detail.replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)\.?\s*Resolution note:.*$/s, "");
      const hint = plain.includes("No connection established") ? ` (is ${this.endpointList.length > 1 ? "each" : "it"} etcd's client URL?)` : "";
      message = `cannot connect to ${where}: ${(await this.diagnoseTls()) ?? `${plain}${hint}`}`;
    } else {
      message = `${where}: ${detail}`;
    }
    return new PerchError(message, {}, { cause: err });
  }

  /**
   * gRPC reports a failed TLS handshake only as "No connection established. Last error: null",
   * so repeat the handshake with node:tls to learn why.
   */
  private async diagnoseTls(): Promise<string | undefined> {
    for (const endpoint of this.endpointList) {
      const url = endpointUrl(endpoint);
      // etcd3 speaks TLS to every endpoint once there are credentials or an https:// endpoint.
      if (url.protocol !== "https:" && this.#credentials === undefined) {
        if (await speaksTls(url)) return `${url.host} speaks TLS: use https://${url.host} and give etcd's CA (ETCD_CA_CERT_FILE)`;
        continue;
      }
      const problem = await tlsHandshakeProblem(url, this.#credentials, this.caFileGiven);
      if (problem !== undefined) return `TLS handshake with ${url.host} failed: ${problem}`;
    }
    return undefined;
  }
}

async function readCredentials(options: EtcdStoreOptions): Promise<IOptions["credentials"]> {
  const { caFile, certFile, keyFile } = options;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new PerchError("an etcd client certificate needs its key: set both ETCD_CERT_FILE and ETCD_KEY_FILE, or neither");
  }
  if (caFile === undefined && certFile === undefined) return undefined;
  const read = async (file: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new PerchError(`cannot read the etcd ${what} ${file}: ${messageOf(err)}`, {}, { cause: err });
    }
  };
  return {
    // Without a CA file the server is checked against the system's roots, as for any https URL.
    rootCertificate: caFile !== undefined ? await read(caFile, "CA file") : Buffer.from(tls.rootCertificates.join("\n")),
    certChain: certFile !== undefined ? await read(certFile, "client certificate") : undefined,
    privateKey: keyFile !== undefined ? await read(keyFile, "client key") : undefined,
  };
}

/** Whether a TLS handshake with the endpoint gets anywhere: a plain http:// endpoint given for a TLS server. */
function speaksTls(url: URL): Promise<boolean> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port: Number(url.port || 2379), servername: isIP(host) ? undefined : host, rejectUnauthorized: false, ALPNProtocols: ["h2"] });
    const done = (yes: boolean): void => {
      socket.destroy();
      resolve(yes);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once("secureConnect", () => done(true));
    socket.once("error", (err: NodeJS.ErrnoException) => done((err.code ?? "").includes("ALERT")));
  });
}

/** Handshake like gRPC would and report what goes wrong, or undefined if nothing does. */
function tlsHandshakeProblem(url: URL, credentials: IOptions["credentials"], caFileGiven: boolean): Promise<string | undefined> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port: Number(url.port || 2379),
      servername: isIP(host) ? undefined : host,
      ca: credentials?.rootCertificate,
      cert: credentials?.certChain,
      key: credentials?.privateKey,
      ALPNProtocols: ["h2"],
    });
    let settle: NodeJS.Timeout | undefined;
    const done = (problem: string | undefined): void => {
      clearTimeout(settle);
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(3000, () => done("no answer"));
    // With TLS 1.3 the server rejects a client certificate only after the client's handshake is done.
    socket.once("secureConnect", () => (settle = setTimeout(() => done(undefined), 300)));
    socket.once("error", (err: NodeJS.ErrnoException) => done(tlsProblem(err, credentials, caFileGiven)));
  });
}

function tlsProblem(err: NodeJS.ErrnoException, credentials: IOptions["credentials"], caFileGiven: boolean): string | undefined {
  const code = err.code ?? "";
  if (code === "ECONNREFUSED") return undefined; // down, not a TLS problem: another endpoint may say more
  if (code.includes("ALERT")) {
    // The server's alert ("bad certificate") does not say why: what perch can see for itself.
    const why = clientCertificateProblem(credentials, caFileGiven);
    return `the server rejected the client certificate (${code})${why ? `: ${why}` : ""}: check ETCD_CERT_FILE and ETCD_KEY_FILE`;
  }
  if (/CERT|SIGNATURE|ISSUER|ALTNAME/.test(code)) {
    return `the server's certificate is not trusted (${err.message}): check the CA file (ETCD_CA_CERT_FILE)`;
  }
  if (code === "ECONNRESET") return "the server does not speak TLS (use an http:// endpoint without TLS files?)";
  return err.message;
}

/** Why a server may refuse our client certificate: none, expired, not yet valid, or from another CA. */
function clientCertificateProblem(credentials: IOptions["credentials"], caFileGiven: boolean): string | undefined {
  if (credentials?.certChain === undefined) return "none was given";
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(credentials.certChain);
  } catch {
    return "it is not a PEM certificate";
  }
  const now = Date.now();
  if (Date.parse(cert.validTo) < now) return `it expired on ${cert.validTo}`;
  if (Date.parse(cert.validFrom) > now) return `it is not valid before ${cert.validFrom}`;
  if (caFileGiven) {
    try {
      if (!cert.checkIssued(new X509Certificate(credentials.rootCertificate))) return "it was not issued by the CA in ETCD_CA_CERT_FILE";
    } catch {
      // An unreadable CA file is reported by the handshake itself.
    }
  }
  return undefined;
}

/** The endpoint failed, rather than the request: unreachable, no answer in time, its circuit breaker open. */
function isEndpointFailure(err: unknown): boolean {
  return err instanceof Error && (isRecoverableError(err) || isBrokenCircuitError(err));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class EtcdStore implements Store {
  readonly kind = "etcd";
  private readonly streams = new Set<EtcdChangeStream>();

  constructor(
    private readonly conn: Connection,
    private readonly pageSize: number,
  ) {}

  async list(prefixes: readonly string[]): Promise<Snapshot> {
    const ranges = disjointPrefixes(prefixes).map((p) => Range.prefix(p));
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.conn.run((client) => this.listAtOneRevision(client, ranges));
      } catch (err) {
        // Compaction overtook the pinned revision mid-listing: start again at a newer one.
        const compacted = messageOf(err).includes("required revision has been compacted");
        if (!compacted || attempt === LIST_ATTEMPTS) throw await this.conn.explain(err);
      }
    }
  }

  private async listAtOneRevision(client: Etcd3, ranges: Range[]): Promise<Snapshot> {
    const { kv } = client;
    if (ranges.length === 0) {
      const status = await client.maintenance.status();
      return { revision: Number(status.header.revision), kvs: [] };
    }
    let revision: number | undefined;
    let pageSize = this.pageSize;
    const kvs: KeyValue[] = [];
    for (const range of ranges) {
      let key = range.start;
      for (;;) {
        // No sort_order: etcd returns a range in ascending key order anyway (Kubernetes' paginated
        // lists rely on it too), and an explicit sort makes etcd 3.4 read the whole rest of the
        // range for every page: 4.6 s instead of 1.1 s for 100,000 keys.
        let res;
        try {
          res = await kv.range({ key, range_end: range.end, limit: pageSize, revision: revision ?? 0 });
        } catch (err) {
          // A page of large values can still exceed the message limit: ask for fewer keys.
          if (!(err instanceof GRPCResourceExhastedError) || pageSize === 1) throw err;
          pageSize = Math.max(1, Math.floor(pageSize / 2));
          continue;
        }
        revision ??= Number(res.header.revision);
        for (const item of res.kvs) kvs.push({ key: item.key.toString("utf8"), value: item.value.toString("utf8") });
        const last = res.kvs.at(-1);
        if (!res.more || last === undefined) break;
        key = Buffer.concat([last.key, Buffer.from([0])]);
      }
    }
    return { revision: revision ?? 0, kvs };
  }

  async watch(prefixes: readonly string[], afterRevision: number, onSignal: (signal: StreamSignal) => void): Promise<ChangeStream> {
    const stream = new EtcdChangeStream(this.conn, disjointPrefixes(prefixes), afterRevision, onSignal, () => this.streams.delete(stream));
    this.streams.add(stream);
    stream.start();
    return stream;
  }

  async close(): Promise<void> {
    await Promise.all([...this.streams].map((s) => s.close()));
    this.conn.close();
  }
}

interface PrefixWatch {
  range: Range;
  prefix: string;
  /** The revision to (re)start from: one past the last one delivered or known to be passed. */
  next: number;
  /** etcd's id for this watch on the current stream. */
  id?: string;
}

/**
 * One gRPC watch stream carrying one watch per prefix. On a break it waits (exponential backoff
 * with jitter) and opens a new stream on the next endpoint, each watch starting one past the last
 * revision it delivered, so nothing is lost or repeated.
 */
class EtcdChangeStream implements ChangeStream {
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
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly conn: Connection,
    prefixes: string[],
    afterRevision: number,
    private readonly onSignal: (signal: StreamSignal) => void,
    private readonly onClosed: () => void,
  ) {
    this.watches = prefixes.map((prefix) => ({ prefix, range: Range.prefix(prefix), next: afterRevision + 1 }));
    this.backoff = new ReconnectBackoff(conn.endpointList.length);
  }

  start(): void {
    if (this.watches.length > 0) void this.connect();
  }

  async close(): Promise<void> {
    this.stop();
  }

  private stop(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.teardown();
    this.onClosed();
  }

  private async connect(): Promise<void> {
    const attempt = ++this.attempt;
    this.endpoint = this.conn.current;
    // An attempt that hangs — a call etcd never answers, a create it never confirms (seen after
    // an auth-enabled etcd restarted under load) — is abandoned, with its client.
    this.setupTimer = setTimeout(() => {
      if (attempt !== this.attempt) return;
      this.attempt++;
      this.conn.renew();
      void this.broken(this.stream, new PerchError(`etcd at ${this.conn.endpoints} did not set up the watch within ${SETUP_TIMEOUT_MS / 1000} s`));
    }, SETUP_TIMEOUT_MS);
    let stream: WatchStream;
    try {
      // A unary read first: a watch stream cannot renew an expired auth token (etcd just cancels
      // the watch as "permission denied"), while a read makes etcd3 fetch a new one. It also picks
      // the endpoint: the one in use, or the first of the next ones to answer.
      // One exact key: a range over a large prefix would make etcd 3.4 count all of it.
      const key = (this.watches[0] as PrefixWatch).range.start;
      this.endpoint = await this.conn.firstAnswering((client) => client.kv.range({ key, keys_only: true }));
      stream = await this.conn.clientAt(this.endpoint).watchClient.watch();
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
      const events = res.events.map(toChangeEvent);
      const revision = (events.at(-1) as ChangeEvent).revision;
      w.next = revision + 1;
      this.deliver({ type: "changes", events, revision });
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
    void this.broken(stream, new PerchError(`etcd at ${this.conn.endpoints} cancelled the watch on ${w.prefix}: ${reason}`, { key: w.prefix }));
  }

  private async broken(stream: WatchStream | undefined, err: unknown): Promise<void> {
    if (this.closed || stream !== this.stream) return;
    this.teardown();
    const error = await this.conn.explain(err);
    if (this.closed) return;
    if (this.up !== false) {
      this.up = false;
      this.deliver({ type: "disconnected", error });
    }
    // Whatever broke the stream, the next attempt goes to the next endpoint: a member that went
    // away is not tried again first, and a healthy one serves the same keys and revisions.
    this.conn.failedOver(this.endpoint);
    const next = this.backoff.failed();
    if (next.renewClient) this.conn.renew();
    this.timer = setTimeout(() => void this.connect(), next.delayMs);
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

function toChangeEvent(ev: IEvent): ChangeEvent {
  const key = ev.kv.key.toString("utf8");
  const revision = Number(ev.kv.mod_revision);
  return ev.type === "Delete" ? { type: "delete", key, revision } : { type: "put", key, value: ev.kv.value.toString("utf8"), revision };
}
