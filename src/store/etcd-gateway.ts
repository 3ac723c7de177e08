/**
 * Listing over etcd's JSON gRPC gateway (`POST /v3/kv/range` on the client URL) with node:http(s),
 * for one-shot commands: loading etcd3 (gRPC, protobuf, .proto parsing) costs a cold `perch render`
 * more than 130 ms, for what is one paginated listing. Anything unexpected (no endpoint reachable,
 * TLS, authentication, a status, a body, a compacted revision, a timeout) discards the partial
 * listing and lists again through the etcd3 store, so that a user meets its errors, which say what
 * is wrong, and never one of this module's.
 */
import { readFile } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import { isIP } from "node:net";
import { errorMessage, PerchError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { disjointPrefixes } from "./disjoint-prefixes.js";
import { endpointUrl } from "./endpoint-url.js";
import { LIST_PAGE_SIZE, type EtcdConnection } from "./etcd-connection.js";
import type { EtcdStoreOptions } from "./etcd-store.js";
import type { ChangeStream, KeyValue, Snapshot, Store, StreamSignal } from "./types.js";

const DEFAULT_TIMEOUT_MS = 5_000;

export interface GatewayOptions extends EtcdConnection {
  /** Keys per range request (default 5000). */
  pageSize?: number;
  /** Bound on each HTTP request, from connecting to the end of the body (default 5000). */
  timeoutMs?: number;
}

/** Why the gateway could not list; `unreachable` when no connection was made, so another endpoint may do. */
export class GatewayError extends PerchError {
  constructor(
    message: string,
    readonly unreachable = false,
    cause?: unknown,
  ) {
    super(message, {}, { cause });
    this.name = "GatewayError";
  }
}

/**
 * The etcd store of one-shot commands: `list()` over the gateway, else through the etcd3 store
 * (imported only then), which also serves `watch()` should a caller ever want one.
 */
export class OneShotEtcdStore implements Store {
  readonly kind = "etcd";
  // #private: the options hold the password, out of reach of util.inspect and loggers.
  readonly #options: EtcdStoreOptions;
  readonly #logger: Logger | undefined;
  #etcd3: Promise<Store> | undefined;

  constructor(options: EtcdStoreOptions, logger?: Logger) {
    this.#options = options;
    this.#logger = logger;
  }

  async list(prefixes: readonly string[]): Promise<Snapshot> {
    if (this.#etcd3 === undefined) {
      try {
        return await listViaGateway(this.#options, prefixes);
      } catch (err) {
        this.#logger?.debug({ event: "list", via: "gateway", err: errorMessage(err) }, "etcd's JSON gateway did not list; listing over gRPC");
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
    this.#etcd3 ??= import("./etcd-store.js").then(({ createEtcdStore }) => createEtcdStore(this.#options));
    return this.#etcd3;
  }
}

/** Everything under `prefixes` at one revision, as the etcd3 store lists it, or a GatewayError. */
export async function listViaGateway(options: GatewayOptions, prefixes: readonly string[]): Promise<Snapshot> {
  const client = await GatewayClient.open(options);
  try {
    if (options.username !== undefined || options.password !== undefined) await client.authenticate(options.username, options.password);
    const ranges = disjointPrefixes(prefixes).map((p) => prefixRange(Buffer.from(p)));
    if (ranges.length === 0) return { revision: revisionOf(await client.post("/v3/maintenance/status", {})), kvs: [] };
    const pageSize = options.pageSize ?? LIST_PAGE_SIZE;
    let revision: number | undefined;
    const kvs: KeyValue[] = [];
    for (const range of ranges) {
      let key = range.key;
      for (;;) {
        // No sort_order, as in the etcd3 store: etcd returns ascending keys anyway, and sorting
        // makes etcd 3.4 read the rest of the range for every page.
        const body = await client.post("/v3/kv/range", { key: key.toString("base64"), range_end: range.end.toString("base64"), limit: pageSize, revision: revision ?? 0 });
        revision ??= revisionOf(body);
        const page = rangePage(body);
        for (const kv of page.kvs) kvs.push({ key: kv.key.toString("utf8"), value: kv.value.toString("utf8") });
        const last = page.kvs.at(-1);
        if (!page.more || last === undefined) break;
        key = Buffer.concat([last.key, Buffer.from([0])]);
      }
    }
    return { revision: revision ?? 0, kvs };
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

class GatewayClient {
  #token: string | undefined;
  /** The endpoint that answered first: the rest of the listing, and the token (etcd 3.4 keeps it per member), stay there. */
  #chosen: URL | undefined;

  private constructor(
    private readonly urls: readonly URL[],
    private readonly agent: http.Agent,
    private readonly secure: boolean,
    private readonly timeoutMs: number,
  ) {}

  /** TLS as etcd3 does it: with a CA or a client certificate, or with https:// endpoints (all of them). */
  static async open(options: GatewayOptions): Promise<GatewayClient> {
    if (options.endpoints.length === 0) throw new GatewayError("no endpoints");
    // gRPC would connect through this proxy (and we would not): let it.
    const proxy = ["grpc_proxy", "https_proxy", "http_proxy"].find((name) => process.env[name]);
    if (proxy !== undefined) throw new GatewayError(`$${proxy} is set`);
    const urls = options.endpoints.map((endpoint) => {
      try {
        return endpointUrl(endpoint);
      } catch (err) {
        throw new GatewayError(errorMessage(err), false, err);
      }
    });
    // Without a port gRPC dials 443, whatever the scheme; a path it does not take at all.
    const odd = urls.find((u) => u.port === "" || u.pathname !== "/");
    if (odd !== undefined) throw new GatewayError(`endpoint ${odd.href}: no port, or a path`);
    const { caFile, certFile, keyFile } = options;
    if ((certFile === undefined) !== (keyFile === undefined)) throw new GatewayError("a client certificate without its key, or a key without its certificate");
    const credentials = caFile !== undefined || certFile !== undefined;
    const httpsCount = urls.filter((u) => u.protocol === "https:").length;
    if (!credentials && httpsCount > 0 && httpsCount < urls.length) throw new GatewayError("a mix of http:// and https:// endpoints");
    const secure = credentials || httpsCount > 0;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!secure) return new GatewayClient(urls, new http.Agent({ keepAlive: true }), false, timeoutMs);
    const read = async (file: string | undefined): Promise<Buffer | undefined> => {
      try {
        return file === undefined ? undefined : await readFile(file);
      } catch (err) {
        throw new GatewayError(`cannot read ${file}: ${errorMessage(err)}`, false, err);
      }
    };
    // Without a CA file, Node's default roots, as for any https URL.
    const agent = new https.Agent({ keepAlive: true, ca: await read(caFile), cert: await read(certFile), key: await read(keyFile) });
    return new GatewayClient(urls, agent, true, timeoutMs);
  }

  async authenticate(name: string | undefined, password: string | undefined): Promise<void> {
    if (name === undefined || password === undefined) throw new GatewayError("a user name without a password, or a password without a user name");
    const body = await this.post("/v3/auth/authenticate", { name, password });
    if (!isRecord(body) || typeof body.token !== "string" || body.token === "") throw new GatewayError("no token in the answer to /v3/auth/authenticate");
    this.#token = body.token;
  }

  /** POST to the chosen endpoint, or to each in order until one can be connected to. */
  async post(path: string, request: object): Promise<unknown> {
    if (this.#chosen !== undefined) return this.request(this.#chosen, path, request);
    let unreachable: GatewayError | undefined;
    for (const url of this.urls) {
      try {
        const body = await this.request(url, path, request);
        this.#chosen = url;
        return body;
      } catch (err) {
        if (!(err instanceof GatewayError && err.unreachable)) throw err;
        unreachable = err;
      }
    }
    throw unreachable as GatewayError;
  }

  close(): void {
    this.agent.destroy();
  }

  private request(url: URL, path: string, request: object): Promise<unknown> {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const where = `${url.protocol}//${url.host}${path}`;
    const payload = JSON.stringify(request);
    const headers: http.OutgoingHttpHeaders = { "content-type": "application/json", "content-length": Buffer.byteLength(payload) };
    if (this.#token !== undefined) headers.authorization = this.#token;
    const options: https.RequestOptions = { host, port: Number(url.port), path, method: "POST", headers, agent: this.agent };
    if (this.secure && isIP(host) === 0) options.servername = host;
    return new Promise((resolve, reject) => {
      let connected = false;
      const req = (this.secure ? https : http).request(options);
      const fail = (message: string, cause?: unknown): void => {
        clearTimeout(timer);
        req.destroy();
        reject(new GatewayError(`${where}: ${message}`, !connected, cause));
      };
      const timer = setTimeout(() => fail(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      req.on("response", (res: http.IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (err) => fail(err.message, err));
        res.on("end", () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) {
            reject(new GatewayError(`${where}: HTTP ${res.statusCode ?? "?"}: ${etcdMessage(text)}`));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(new GatewayError(`${where}: the answer is not JSON: ${errorMessage(err)}`, false, err));
          }
        });
      });
      req.on("socket", (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once("connect", () => (connected = true));
      });
      req.on("error", (err) => fail(err.message, err));
      req.end(payload);
    });
  }
}

/** etcd's message from an error body (`{"error": …, "code": …}`), else the start of the body. */
function etcdMessage(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (isRecord(body) && typeof body.message === "string") return body.message;
  } catch {
    // Not JSON: not the gateway (a proxy, another server, a gateway turned off).
  }
  return JSON.stringify(text.slice(0, 200));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** int64s come as JSON strings. */
function revisionOf(body: unknown): number {
  const header = isRecord(body) ? body.header : undefined;
  const revision = isRecord(header) ? header.revision : undefined;
  const n = typeof revision === "string" && /^\d+$/.test(revision) ? Number(revision) : NaN;
  if (!Number.isSafeInteger(n)) throw new GatewayError(`no revision in the answer: ${JSON.stringify(body).slice(0, 200)}`);
  return n;
}

/** A range answer; fields with default values (no kvs, an empty value, more = false) are left out. */
function rangePage(body: unknown): { kvs: Array<{ key: Buffer; value: Buffer }>; more: boolean } {
  const bad = (why: string): GatewayError => new GatewayError(`unexpected range answer (${why}): ${JSON.stringify(body).slice(0, 200)}`);
  if (!isRecord(body)) throw bad("not an object");
  const { kvs = [], more = false } = body;
  if (!Array.isArray(kvs)) throw bad("kvs");
  if (typeof more !== "boolean") throw bad("more");
  return {
    more,
    kvs: kvs.map((kv: unknown) => {
      if (!isRecord(kv) || typeof kv.key !== "string" || !(kv.value === undefined || typeof kv.value === "string")) throw bad("a key-value");
      return { key: Buffer.from(kv.key, "base64"), value: Buffer.from(kv.value ?? "", "base64") };
    }),
  };
}
