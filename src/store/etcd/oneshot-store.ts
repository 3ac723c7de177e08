/**
 * Listing for one-shot commands (render, snapshot): etcd's own gRPC API spoken directly over
 * node:http2, one unary `KV/Range` call per page, the messages read and written with
 * @bufbuild/protobuf's wire codec. Loading etcd3 (grpc-js, protobufjs, parsing etcd's .proto
 * files) costs a cold `perch render` more than 130 ms; etcd's JSON gateway avoids that, but etcd
 * marshals every key and value to base64 JSON (≈ 55 ms per 5,000 keys on the bench machine, and a
 * 1,000-node listing took 140–220 ms where this takes 30–50). Anything unexpected (no endpoint
 * reachable, TLS, authentication, an HTTP or gRPC status, a malformed answer, a timeout) discards
 * the partial listing and lists again through the etcd3 store, so that a user meets its errors,
 * which say what is wrong, and never one of this module's.
 */
import { readFile } from "node:fs/promises";
import * as http2 from "node:http2";
import { isIP } from "node:net";
import { errorMessage, PerchError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";
import { disjointPrefixes, LIST_PAGE_SIZE } from "./listing.js";
import { endpointUrl, type EtcdConnection } from "./target.js";
import { authenticateRequest, rangeRequest, readAuthenticateResponse, readRangeResponse, readResponseRevision, type RangePage } from "./messages.js";
import { firstToAnswer } from "./first-to-answer.js";
import type { EtcdStoreOptions } from "./grpc-store.js";
import type { ChangeStream, KeyValue, Snapshot, Store, StreamSignal } from "../types.js";

const DEFAULT_TIMEOUT_MS = 5_000;
/** Flow-control window for the answers: a 5,000-key page arrives without waiting for window updates. */
const WINDOW_BYTES = 16 * 1024 * 1024;

export interface DirectListOptions extends EtcdConnection {
  /** Keys per range request (default 5000). */
  pageSize?: number;
  /** Bound on each call, from connecting to the end of the answer (default 5000). */
  timeoutMs?: number;
}

/** Why the direct lister could not list. */
export class DirectListError extends PerchError {
  constructor(message: string, cause?: unknown) {
    super(message, {}, { cause });
    this.name = "DirectListError";
  }
}

/**
 * The etcd store of one-shot commands: `list()` directly over HTTP/2, else through the etcd3 store
 * (imported only then), which also serves `watch()` should a caller ever want one.
 */
export class OneShotEtcdStore implements Store {
  readonly kind = "etcd";
  // #private: the options hold the password, out of reach of util.inspect and loggers.
  readonly #options: EtcdStoreOptions;
  readonly #logger: Logger | undefined;
  readonly #listDirect: typeof listDirect;
  #etcd3: Promise<Store> | undefined;

  /** `direct` is the fast lister; tests pass one that fails to reach the fall-back. */
  constructor(options: EtcdStoreOptions, logger?: Logger, direct: typeof listDirect = listDirect) {
    this.#options = options;
    this.#logger = logger;
    this.#listDirect = direct;
  }

  async list(prefixes: readonly string[]): Promise<Snapshot> {
    if (this.#etcd3 === undefined) {
      try {
        return await this.#listDirect(this.#options, prefixes);
      } catch (err) {
        this.#logger?.debug({ event: "list", via: "http2", err: errorMessage(err) }, "the direct listing failed; listing through the etcd3 client");
      }
    }
    return (await this.etcd3()).list(prefixes);
  }

  async watch(prefixes: readonly string[], afterRevision: number, onSignal: (signal: StreamSignal) => void): Promise<ChangeStream> {
    return (await this.etcd3()).watch(prefixes, afterRevision, onSignal);
  }

  async close(): Promise<void> {
    // A store that failed to open has nothing to close (its error went to the caller of list()).
    await this.#etcd3?.then(
      (store) => store.close(),
      () => undefined,
    );
  }

  private etcd3(): Promise<Store> {
    this.#etcd3 ??= import("./grpc-store.js").then(({ createEtcdStore }) => createEtcdStore(this.#options));
    return this.#etcd3;
  }
}

/**
 * Everything under `prefixes` at one revision, as the etcd3 store lists it, or a DirectListError.
 * The ranges are asked for side by side on the one connection (Calico's set is ten prefixes: one
 * after another they were ten round trips, ~14 ms of a 1,000-node listing): each range's first
 * page at the newest revision, then, should the answers disagree (a write came between them), the
 * ranges that are behind again at the newest revision of all; further pages at that revision.
 */
export async function listDirect(options: DirectListOptions, prefixes: readonly string[]): Promise<Snapshot> {
  const client = await Http2Client.open(options);
  try {
    if (options.username !== undefined || options.password !== undefined) await client.authenticate(options.username, options.password);
    const ranges = disjointPrefixes(prefixes).map((p) => prefixRange(Buffer.from(p)));
    // Maintenance/Status: an empty request, answered with the header (and so the revision).
    if (ranges.length === 0) return { revision: revisionOf(await client.call("/etcdserverpb.Maintenance/Status", new Uint8Array(0), readResponseRevision)), kvs: [] };
    const pageSize = options.pageSize ?? LIST_PAGE_SIZE;
    const page = (key: Uint8Array, end: Uint8Array, revision: number): Promise<RangePage> =>
      client.call("/etcdserverpb.KV/Range", rangeRequest(key, end, pageSize, revision), readRangeResponse);
    const firsts = await Promise.all(ranges.map((r) => page(r.key, r.end, 0)));
    const revision = Math.max(...firsts.map((f) => revisionOf(f.revision)));
    const pages = await Promise.all(
      ranges.map(async (range, i) => {
        const first = firsts[i] as RangePage;
        const kvs: KeyValue[] = [];
        // No sort_order, as in the etcd3 store: etcd returns ascending keys anyway, and sorting
        // makes etcd 3.4 read the rest of the range for every page.
        let current = first.revision === revision ? first : await page(range.key, range.end, revision);
        for (;;) {
          for (const kv of current.kvs) kvs.push(kv);
          if (!current.more || current.lastKey === undefined) return kvs;
          current = await page(Buffer.concat([current.lastKey, Buffer.from([0])]), range.end, revision);
        }
      }),
    );
    return { revision, kvs: pages.flat() };
  } finally {
    client.close();
  }
}

/** etcd3's `Range.prefix`: the empty prefix is every key; a prefix of 0xff bytes has no end. */
export function prefixRange(prefix: Buffer): { key: Buffer; end: Buffer } {
  const zero = Buffer.from([0]);
  if (prefix.length === 0) return { key: zero, end: zero };
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] as number;
    if (byte < 0xff) return { key: prefix, end: Buffer.concat([prefix.subarray(0, i), Buffer.from([byte + 1])]) };
  }
  return { key: prefix, end: zero };
}

function revisionOf(revision: number | undefined): number {
  if (revision === undefined || !Number.isSafeInteger(revision)) throw new DirectListError(`no revision in the answer (${String(revision)})`);
  return revision;
}

/** gRPC percent-encodes its status message; a malformed one is shown as it came. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A gRPC message on the wire: not compressed (0), its length (4 bytes, big-endian), the message. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** The one message of a unary answer. */
function unframe(body: Buffer, where: string): Buffer {
  if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
    throw new DirectListError(`${where}: not one uncompressed gRPC message (${body.length} bytes)`);
  }
  return body.subarray(5);
}

class Http2Client {
  #token: string | undefined;
  /** The endpoint that answered first: the rest of the listing, and the token (etcd 3.4 keeps it per member), stay there. */
  #chosen: Promise<{ url: URL; session: http2.ClientHttp2Session }> | undefined;
  readonly #sessions = new Set<http2.ClientHttp2Session>();

  private constructor(
    private readonly urls: readonly URL[],
    private readonly tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined,
    private readonly timeoutMs: number,
  ) {}

  /** TLS as etcd3 does it: with a CA or a client certificate, or with https:// endpoints (all of them). */
  static async open(options: DirectListOptions): Promise<Http2Client> {
    if (options.endpoints.length === 0) throw new DirectListError("no endpoints");
    // gRPC would connect through this proxy (and we would not): let it.
    const proxy = ["grpc_proxy", "https_proxy", "http_proxy"].find((name) => process.env[name]);
    if (proxy !== undefined) throw new DirectListError(`$${proxy} is set`);
    const urls = options.endpoints.map((endpoint) => {
      try {
        return endpointUrl(endpoint);
      } catch (err) {
        throw new DirectListError(errorMessage(err), err);
      }
    });
    // Without a port gRPC dials 443, whatever the scheme; a path it does not take at all.
    const odd = urls.find((u) => u.port === "" || u.pathname !== "/");
    if (odd !== undefined) throw new DirectListError(`endpoint ${odd.href}: no port, or a path`);
    const { caFile, certFile, keyFile } = options;
    if ((certFile === undefined) !== (keyFile === undefined)) throw new DirectListError("a client certificate without its key, or a key without its certificate");
    const credentials = caFile !== undefined || certFile !== undefined;
    const httpsCount = urls.filter((u) => u.protocol === "https:").length;
    if (!credentials && httpsCount > 0 && httpsCount < urls.length) throw new DirectListError("a mix of http:// and https:// endpoints");
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!credentials && httpsCount === 0) return new Http2Client(urls, undefined, timeoutMs);
    const read = async (file: string | undefined): Promise<Buffer | undefined> => {
      try {
        return file === undefined ? undefined : await readFile(file);
      } catch (err) {
        throw new DirectListError(`cannot read ${file}: ${errorMessage(err)}`, err);
      }
    };
    // Without a CA file, Node's default roots, as for any https URL.
    return new Http2Client(urls, { ca: await read(caFile), cert: await read(certFile), key: await read(keyFile) }, timeoutMs);
  }

  async authenticate(name: string | undefined, password: string | undefined): Promise<void> {
    if (name === undefined || password === undefined) throw new DirectListError("a user name without a password, or a password without a user name");
    const token = await this.call("/etcdserverpb.Auth/Authenticate", authenticateRequest(name, password), readAuthenticateResponse);
    if (token === "") throw new DirectListError("no token in the answer to Auth/Authenticate");
    this.#token = token;
  }

  /** A unary call on the chosen endpoint (see choose); `read` decodes the answer. */
  async call<T>(path: string, request: Uint8Array, read: (message: Buffer) => T): Promise<T> {
    const { url, session } = await this.choose();
    return this.unary(url, session, path, request, read);
  }

  /**
   * The first endpoint to answer (firstToAnswer: in order, a little apart, so a member that is down
   * without refusing connections costs 250 ms rather than the timeout): chosen once, however many
   * calls wait for it. When none answers, the first endpoint's failure is the error.
   */
  private choose(): Promise<{ url: URL; session: http2.ClientHttp2Session }> {
    this.#chosen ??= (async () => {
      const { index, value: session } = await firstToAnswer(this.urls.length, (i) => this.connect(this.urls[i] as URL));
      // Any other one asked is not needed, connected or not.
      for (const other of this.#sessions) if (other !== session) other.destroy();
      return { url: this.urls[index] as URL, session };
    })();
    return this.#chosen;
  }

  close(): void {
    for (const session of this.#sessions) session.destroy();
    this.#sessions.clear();
  }

  private authority(url: URL): string {
    return `${this.tls === undefined ? "http" : "https"}://${url.host}`;
  }

  private connect(url: URL): Promise<http2.ClientHttp2Session> {
    const where = this.authority(url);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const options: http2.SecureClientSessionOptions = { settings: { initialWindowSize: WINDOW_BYTES }, ...this.tls };
    if (this.tls !== undefined && isIP(host) === 0) options.servername = host;
    return new Promise((resolve, reject) => {
      const session = http2.connect(where, options);
      this.#sessions.add(session);
      const fail = (message: string, cause?: unknown): void => {
        clearTimeout(timer);
        session.destroy();
        reject(new DirectListError(`${where}: ${message}`, cause));
      };
      const timer = setTimeout(() => fail(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      // Errors after the connection are the calls' to report; this listener keeps them from being unhandled.
      session.on("error", (err) => fail(err.message, err));
      // Before the server's SETTINGS a socket error (a TLS alert: the server refused our client
      // certificate) destroys the session without telling its listeners.
      session.socket.once("error", (err) => fail(err.message, err));
      // Destroyed by choose or close: stop waiting (the timer would keep a finished process alive).
      session.once("close", () => fail("closed"));
      // The server's SETTINGS, not just a TCP connection: one that accepts connections and says
      // nothing (a hung member, or a proxy in front of a dead one) is not chosen.
      session.once("remoteSettings", () => {
        clearTimeout(timer);
        session.setLocalWindowSize(WINDOW_BYTES);
        resolve(session);
      });
    });
  }

  private unary<T>(url: URL, session: http2.ClientHttp2Session, path: string, request: Uint8Array, read: (message: Buffer) => T): Promise<T> {
    const where = `${this.authority(url)}${path}`;
    const headers: http2.OutgoingHttpHeaders = { ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" };
    if (this.#token !== undefined) headers.token = this.#token;
    return new Promise((resolve, reject) => {
      let status: string | undefined;
      let grpcStatus: string | undefined;
      let grpcMessage: string | undefined;
      const chunks: Buffer[] = [];
      const stream = session.request(headers);
      const fail = (message: string, cause?: unknown): void => {
        clearTimeout(timer);
        stream.destroy();
        reject(new DirectListError(`${where}: ${message}`, cause));
      };
      const timer = setTimeout(() => fail(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      // A failed call may answer with headers only ("trailers-only"): its status is in the headers.
      const noteStatus = (h: http2.IncomingHttpHeaders): void => {
        if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]);
        if (h["grpc-message"] !== undefined) grpcMessage = percentDecoded(String(h["grpc-message"]));
      };
      stream.on("response", (h) => {
        status = String(h[":status"]);
        noteStatus(h);
      });
      stream.on("trailers", noteStatus);
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (err) => fail(err.message, err));
      // After "end" this does nothing (the promise is settled); before it, the session went away.
      stream.on("close", () => fail("the connection closed before the answer ended"));
      stream.on("end", () => {
        clearTimeout(timer);
        try {
          if (status !== "200") throw new DirectListError(`${where}: HTTP ${status ?? "?"}`);
          if (grpcStatus !== "0") throw new DirectListError(`${where}: gRPC status ${grpcStatus ?? "missing"}${grpcMessage ? `: ${grpcMessage}` : ""}`);
          resolve(read(unframe(Buffer.concat(chunks), where)));
        } catch (err) {
          reject(err instanceof DirectListError ? err : new DirectListError(`${where}: ${errorMessage(err)}`, err));
        }
      });
      stream.end(frame(request));
    });
  }
}
