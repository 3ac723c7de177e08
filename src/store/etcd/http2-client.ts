/**
 * The direct lister's transport: etcd's gRPC calls made as plain HTTP/2 requests (node:http2), one
 * unary call at a time, on the first endpoint to answer. Whatever goes wrong is a DirectListError,
 * which sends the listing to the etcd3 store.
 */
import * as http2 from "node:http2";
import { isIP } from "node:net";
import { errorMessage, PerchError } from "../../errors.js";
import { firstToAnswer } from "./first-to-answer.js";
import { authenticateRequest, readAuthenticateResponse } from "./messages.js";
import { checkTarget, usesTlsFiles, type EtcdConnection } from "./target.js";
import { readTlsFiles, TlsFileError, type TlsFiles } from "./tls-files.js";

const DEFAULT_TIMEOUT_MS = 5_000;
/** Flow-control window for the answers: a 5,000-key page arrives without waiting for window updates. */
const WINDOW_BYTES = 16 * 1024 * 1024;

export interface Http2Options extends EtcdConnection {
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

export class Http2Client {
  #token: string | undefined;
  /** The endpoint that answered first: the rest of the listing, and the token (etcd 3.4 keeps it per member), stay there. */
  #chosen: Promise<{ url: URL; session: http2.ClientHttp2Session }> | undefined;
  readonly #sessions = new Set<http2.ClientHttp2Session>();

  private constructor(
    private readonly urls: readonly URL[],
    private readonly tls: TlsFiles | undefined,
    private readonly timeoutMs: number,
  ) {}

  /** TLS as etcd3 does it: with a CA or a client certificate, or with https:// endpoints (all of them). */
  static async open(options: Http2Options): Promise<Http2Client> {
    const urls = checkTarget(options, "direct", (message) => new DirectListError(message));
    // gRPC would connect through this proxy (and we would not): let it.
    const proxy = ["grpc_proxy", "https_proxy", "http_proxy"].find((name) => process.env[name]);
    if (proxy !== undefined) throw new DirectListError(`$${proxy} is set`);
    // Without a port gRPC dials 443, whatever the scheme; a path it does not take at all.
    const odd = urls.find((u) => u.port === "" || u.pathname !== "/");
    if (odd !== undefined) throw new DirectListError(`endpoint ${odd.href}: no port, or a path`);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!usesTlsFiles(options) && !urls.some((u) => u.protocol === "https:")) return new Http2Client(urls, undefined, timeoutMs);
    try {
      // Without a CA file, Node's default roots, as for any https URL.
      return new Http2Client(urls, await readTlsFiles(options), timeoutMs);
    } catch (err) {
      if (err instanceof TlsFileError) throw new DirectListError(`cannot read ${err.file}: ${errorMessage(err.cause)}`, err.cause);
      throw err;
    }
  }

  /** Auth/Authenticate: the token every later call carries. */
  async authenticate(name: string, password: string): Promise<void> {
    const token = await this.call("/etcdserverpb.Auth/Authenticate", authenticateRequest(name, password), readAuthenticateResponse);
    if (token === "") throw new DirectListError("no token in the answer to Auth/Authenticate");
    this.#token = token;
  }

  /** A unary call on the chosen endpoint (see choose); `read` decodes the answer. */
  async call<T>(path: string, request: Uint8Array, read: (message: Buffer) => T): Promise<T> {
    const { url, session } = await this.choose();
    return this.unary(url, session, path, request, read);
  }

  close(): void {
    for (const session of this.#sessions) session.destroy();
    this.#sessions.clear();
  }

  /**
   * The first endpoint to answer (firstToAnswer: in order, STAGGER_MS apart, so a member that is down
   * without refusing connections costs the stagger rather than the timeout): chosen once, however many
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
