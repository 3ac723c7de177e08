/**
 * Opening the etcd3 store's clients: the target checked, its TLS files read, etcd3's options, and
 * one request at start so that a wrong endpoint, CA or password is reported then, not on first use.
 */
import * as tls from "node:tls";
import { noop } from "cockatiel";
import { Etcd3, type IOptions } from "etcd3";
import { PerchError } from "../../errors.js";
import { EtcdClients } from "./failover.js";
import { INITIAL_BACKOFF_MS, MAX_BACKOFF_MS } from "./reconnect-backoff.js";
import { checkTarget, usesTlsFiles, type EtcdConnection } from "./target.js";
import { readTlsFiles } from "./tls-files.js";

export interface ConnectOptions extends EtcdConnection {
  /** Bound on establishing the first connection (default 5000). */
  dialTimeoutMs?: number;
  /** Deadline of each request (default 10000). */
  requestTimeoutMs?: number;
}

export async function connect(options: ConnectOptions): Promise<EtcdClients> {
  const urls = checkTarget(options, "store");
  const files = usesTlsFiles(options) ? await readTlsFiles(options) : undefined;
  // Without a CA file the server is checked against the system's roots, as for any https URL.
  const tlsFiles = files && { ...files, ca: files.ca ?? Buffer.from(tls.rootCertificates.join("\n")) };
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const etcdOptions: Omit<IOptions, "hosts"> = {
    credentials: tlsFiles && { rootCertificate: tlsFiles.ca, certChain: tlsFiles.cert, privateKey: tlsFiles.key },
    // One try per call: EtcdClients.run retries, on the next endpoint when this one failed. No
    // per-host circuit breaker either: etcd3 renews an expired auth token by calling again from
    // inside the call, and inside a half-open breaker's trial call that waits on itself for ever.
    faultHandling: { global: noop, host: () => noop },
    // Streams are long-lived; every other call (including the auth token exchange) gets a deadline.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
    grpcOptions: {
      // A half-open TCP connection (peer gone without a FIN) would otherwise stall a watch forever.
      "grpc.keepalive_time_ms": 30_000,
      "grpc.keepalive_timeout_ms": 10_000,
      // gRPC's own reconnect backoff grows to two minutes; ours is capped at five seconds.
      "grpc.initial_reconnect_backoff_ms": INITIAL_BACKOFF_MS,
      "grpc.max_reconnect_backoff_ms": MAX_BACKOFF_MS,
      // grpc-js refuses messages over 4 MiB by default: one large value would break every listing
      // for ever. etcd's own Go client accepts up to 2 GiB; so does perch.
      "grpc.max_receive_message_length": 2 ** 31 - 1,
    },
  };
  if (options.username !== undefined && options.password !== undefined) etcdOptions.auth = { username: options.username, password: options.password };
  const explaining = { endpoints: options.endpoints.join(", "), urls, username: options.username, tls: tlsFiles, caFileGiven: options.caFile !== undefined };
  const clients = new EtcdClients(options.endpoints, (endpoint) => new Etcd3({ ...etcdOptions, hosts: endpoint }), explaining);
  await probe(clients, options.dialTimeoutMs ?? 5000);
  return clients;
}

/**
 * One request within the dial timeout; the first endpoint to answer is the one in use
 * (firstAnswering). Status needs no key permissions, but authenticating still happens.
 */
async function probe(clients: EtcdClients, dialTimeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PerchError(`etcd at ${clients.endpoints} did not answer within the dial timeout of ${dialTimeoutMs} ms`)), dialTimeoutMs);
  });
  // The calls' own deadline comes after the dial timeout, whose message (naming the dial timeout)
  // must be the one reported rather than gRPC's: dropClients() ends the calls then.
  const deadline = Date.now() + dialTimeoutMs + 1000;
  try {
    await Promise.race([clients.firstAnswering((client) => client.maintenance.status({ deadline })), timedOut]);
  } catch (err) {
    clients.dropClients();
    throw await clients.explain(err);
  } finally {
    clearTimeout(timer);
  }
}
