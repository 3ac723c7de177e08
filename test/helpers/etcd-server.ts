/**
 * Real etcd servers for integration tests: single members (optionally with TLS and/or password
 * auth) and a three-member cluster, all on loopback with free ports and throwaway data dirs. Every
 * process started here is killed when the test process exits, however it exits.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { constants as fsConstants, rmSync } from "node:fs";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Etcd3, type IOptions } from "etcd3";
import { onTestProcessExit } from "./exit-hooks.js";

const ETCD_BIN = "/usr/bin/etcd";
const OPENSSL_BIN = "/usr/bin/openssl";
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

export interface StartEtcdOptions {
  /** Serve clients over TLS with client-certificate auth (throwaway CA from openssl). */
  tls?: boolean;
  /** Create this user as root (root role) and enable auth. */
  auth?: { user: string; password: string };
  /** Reuse this data dir instead of a fresh temp dir (it is then never removed). */
  dataDir?: string;
  name?: string;
  /** Keep the data dir when stopped. */
  keep?: boolean;
  /** etcd's --max-request-bytes (default 1.5 MiB): room for a test's oversized values. */
  maxRequestBytes?: number;
  /** More etcd flags, e.g. `--enable-grpc-gateway=false`. */
  extraArgs?: string[];
}

export interface EtcdServer {
  /** `127.0.0.1:port`. */
  endpoint: string;
  /** `http(s)://127.0.0.1:port`: what perch takes as an endpoint. */
  clientUrl: string;
  /** Plain-HTTP `/metrics` and `/health`, even when clients need TLS. */
  metricsUrl: string;
  dataDir: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** SIGTERM, wait for exit, remove the data dir (unless kept) and the TLS files. */
  stop(): Promise<void>;
  /** Stop (if running) and start again on the same data dir and ports; resolves when healthy. */
  restart(): Promise<void>;
  /** SIGKILL, as in a crash; the data dir stays so that `restart()` recovers from it. */
  kill(): Promise<void>;
  /**
   * A shared client with the server's credentials. `restart`, `kill` and `stop` close it (its
   * circuit breaker would refuse requests for seconds after the outage): call again afterwards.
   */
  client(): Etcd3;
}

export interface TlsFiles {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

export interface EtcdClusterMember {
  name: string;
  clientUrl: string;
  /** SIGTERM and wait; the data dir stays for `start()`. */
  stop(): Promise<void>;
  /** Start again on the same data dir; resolves when the member is healthy (has a leader). */
  start(): Promise<void>;
}

export interface EtcdCluster {
  endpoints: string[];
  members: EtcdClusterMember[];
  client(): Etcd3;
  /**
   * Kill every member and remove the data dirs. SIGKILL, because members that have lost their
   * quorum take seconds to shut down gracefully, and the data is discarded anyway.
   */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: whatever happens to this test process, no etcd may outlive it.

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
function killEverythingNow(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/**
 * A SIGKILLed test worker runs no exit hook, so each etcd gets a watchdog shell that kills it and
 * removes its temp dirs once the test process is gone (and exits by itself when etcd does).
 */
function startWatchdog(etcdPid: number, dirs: readonly string[]): void {
  const script = [
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done',
    'kill -0 "$1" 2>/dev/null && exit 0',
    'kill -9 "$2" 2>/dev/null; shift 2; rm -rf "$@"',
  ].join("\n");
  spawn("/bin/sh", ["-c", script, "perch-etcd-watchdog", String(process.pid), String(etcdPid), ...dirs], {
    detached: true,
    stdio: "ignore",
  }).unref();
}

async function makeTempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `perch-${label}-`));
  tempDirs.add(dir);
  return dir;
}

async function removeTempDir(dir: string): Promise<void> {
  tempDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function assertEtcdInstalled(): Promise<void> {
  try {
    await access(ETCD_BIN, fsConstants.X_OK);
  } catch {
    throw new Error(`${ETCD_BIN} not found: the integration tests need etcd; install the Debian package etcd-server (apt-get install etcd-server)`);
  }
}

// ---------------------------------------------------------------------------------------------
// One etcd process with fixed arguments that can be started, stopped and started again.

class EtcdProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderrTail = "";

  constructor(
    readonly name: string,
    private readonly args: readonly string[],
    private readonly metricsUrl: string,
    /** Temp dirs to remove should the test process die without cleaning up. */
    private readonly tempDirs: readonly string[],
  ) {}

  async start(): Promise<void> {
    onTestProcessExit(killEverythingNow);
    await assertEtcdInstalled();
    this.stderrTail = "";
    // etcd reads ETCD_* variables as flags; a test's ETCD_CERT_FILE must not reconfigure the server.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ETCD_")));
    const child = spawn(ETCD_BIN, this.args, { env, stdio: ["ignore", "ignore", "pipe"] });
    running.add(child);
    if (child.pid !== undefined) startWatchdog(child.pid, this.tempDirs);
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once("exit", () => {
        running.delete(child);
        resolve();
      });
      child.once("error", () => {
        running.delete(child);
        resolve();
      });
    });
    await this.waitHealthy(child);
  }

  /** Poll the plain-HTTP health endpoint until etcd has a leader and answers. */
  private async waitHealthy(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`etcd ${this.name} exited during start-up (code ${child.exitCode}): ${this.stderrTail.trim()}`);
      try {
        const res = await fetch(`${this.metricsUrl}/health`, { signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { health?: string };
        if (body.health === "true") return;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.signal("SIGKILL");
    throw new Error(`etcd ${this.name} did not become healthy within ${READY_TIMEOUT_MS} ms: ${this.stderrTail.trim()}`);
  }

  /** Send `sig` and wait for the exit; SIGKILL if SIGTERM is not enough. */
  async signal(sig: "SIGTERM" | "SIGKILL"): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  get addressInUse(): boolean {
    return this.stderrTail.includes("address already in use");
  }
}

// ---------------------------------------------------------------------------------------------
// TLS material

const run = promisify(execFile);

async function openssl(cwd: string, args: string[]): Promise<void> {
  await run(OPENSSL_BIN, args, { cwd });
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it. */
export async function generateTlsFiles(dir?: string): Promise<TlsFiles> {
  const cwd = dir ?? (await makeTempDir("tls"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(cwd, ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=perch test CA"]);
  const leaf = async (name: string, cn: string, ext: string): Promise<void> => {
    await writeFile(join(cwd, `${name}.ext`), ext);
    await openssl(cwd, ["req", "-new", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
    await openssl(cwd, [
      "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
      "-days", "2", "-out", `${name}.crt`, "-extfile", `${name}.ext`,
    ]);
  };
  await leaf("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  await leaf("client", "perch-test-client", "extendedKeyUsage=clientAuth\n");
  return {
    dir: cwd,
    caFile: join(cwd, "ca.crt"),
    serverCertFile: join(cwd, "server.crt"),
    serverKeyFile: join(cwd, "server.key"),
    clientCertFile: join(cwd, "client.crt"),
    clientKeyFile: join(cwd, "client.key"),
  };
}

// ---------------------------------------------------------------------------------------------
// A single member

interface Ports {
  client: number;
  peer: number;
  metrics: number;
}

async function freePorts(): Promise<Ports> {
  return { client: await freePort(), peer: await freePort(), metrics: await freePort() };
}

function memberArgs(name: string, dataDir: string, ports: Ports, scheme: string, initialCluster: string, clusterToken: string): string[] {
  const peerUrl = `http://127.0.0.1:${ports.peer}`;
  const clientUrl = `${scheme}://127.0.0.1:${ports.client}`;
  return [
    "--name", name,
    "--data-dir", dataDir,
    "--listen-client-urls", clientUrl,
    "--advertise-client-urls", clientUrl,
    "--listen-peer-urls", peerUrl,
    "--initial-advertise-peer-urls", peerUrl,
    "--initial-cluster", initialCluster,
    "--initial-cluster-token", clusterToken,
    "--initial-cluster-state", "new",
    "--listen-metrics-urls", `http://127.0.0.1:${ports.metrics}`,
    "--logger", "zap",
    "--log-outputs", "stderr",
    "--log-level", "error",
  ];
}

export function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdServer> {
  return retryingPortRaces(() => startEtcdOnce(opts));
}

/** Free ports are found by binding and releasing them, so another process can win the race: start again on new ones. */
async function retryingPortRaces<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof PortRaceError) || attempt === 3) throw err instanceof PortRaceError ? err.cause : err;
    }
  }
}

class PortRaceError extends Error {}

async function startEtcdOnce(opts: StartEtcdOptions): Promise<EtcdServer> {
  const name = opts.name ?? "perch-test";
  const ports = await freePorts();
  const dataDir = opts.dataDir ?? (await makeTempDir("etcd"));
  const ownsDataDir = opts.dataDir === undefined;
  const tls = opts.tls ? await generateTlsFiles() : undefined;
  const scheme = tls ? "https" : "http";
  const clientUrl = `${scheme}://127.0.0.1:${ports.client}`;
  const metricsUrl = `http://127.0.0.1:${ports.metrics}`;
  const args = memberArgs(name, dataDir, ports, scheme, `${name}=http://127.0.0.1:${ports.peer}`, `${name}-${ports.client}`);
  if (opts.maxRequestBytes !== undefined) args.push("--max-request-bytes", String(opts.maxRequestBytes));
  if (opts.extraArgs !== undefined) args.push(...opts.extraArgs);
  if (tls) {
    args.push("--cert-file", tls.serverCertFile, "--key-file", tls.serverKeyFile, "--trusted-ca-file", tls.caFile, "--client-cert-auth");
  }
  const proc = new EtcdProcess(name, args, metricsUrl, [...(ownsDataDir ? [dataDir] : []), ...(tls ? [tls.dir] : [])]);

  const cleanUpFiles = async (): Promise<void> => {
    if (ownsDataDir && !opts.keep) await removeTempDir(dataDir);
    if (tls) await removeTempDir(tls.dir);
  };
  try {
    await proc.start();
  } catch (err) {
    await cleanUpFiles();
    throw proc.addressInUse ? new PortRaceError("port race", { cause: err }) : err;
  }

  const baseOptions: IOptions = { hosts: [clientUrl] };
  if (tls) {
    baseOptions.credentials = {
      rootCertificate: await readFile(tls.caFile),
      certChain: await readFile(tls.clientCertFile),
      privateKey: await readFile(tls.clientKeyFile),
    };
  }
  let client: Etcd3 | undefined;
  const dropClient = (): void => {
    client?.close();
    client = undefined;
  };
  if (opts.auth) {
    const setup = new Etcd3(baseOptions);
    try {
      await enableAuth(setup, opts.auth.user, opts.auth.password);
    } finally {
      setup.close();
    }
  }
  const clientOptions: IOptions = opts.auth ? { ...baseOptions, auth: { username: opts.auth.user, password: opts.auth.password } } : baseOptions;

  return {
    endpoint: `127.0.0.1:${ports.client}`,
    clientUrl,
    metricsUrl,
    dataDir,
    caFile: tls?.caFile,
    certFile: tls?.clientCertFile,
    keyFile: tls?.clientKeyFile,
    async stop() {
      dropClient();
      await proc.signal("SIGTERM");
      await cleanUpFiles();
    },
    async restart() {
      dropClient();
      await proc.signal("SIGTERM");
      await proc.start();
    },
    async kill() {
      dropClient();
      await proc.signal("SIGKILL");
    },
    client() {
      client ??= new Etcd3(clientOptions);
      return client;
    },
  };
}

/** What `etcdctl user add root && etcdctl auth enable` does, for a root user named `user`. */
async function enableAuth(client: Etcd3, user: string, password: string): Promise<void> {
  await client.role("root").create();
  await client.user(user).create(password);
  await client.user(user).addRole("root");
  await client.auth.authEnable();
}

// ---------------------------------------------------------------------------------------------
// A three-member cluster

export function startEtcdCluster(n: 3 = 3): Promise<EtcdCluster> {
  return retryingPortRaces(() => startEtcdClusterOnce(n));
}

async function startEtcdClusterOnce(n: number): Promise<EtcdCluster> {
  const names = Array.from({ length: n }, (_, i) => `perch-m${i}`);
  const ports: Ports[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePorts());
  const dirs = await Promise.all(names.map((name) => makeTempDir(`etcd-${name}`)));
  const initialCluster = names.map((name, i) => `${name}=http://127.0.0.1:${ports[i]?.peer}`).join(",");
  const token = `perch-cluster-${ports[0]?.client}`;
  const procs = names.map((name, i) => {
    const p = ports[i] as Ports;
    const dir = dirs[i] as string;
    return new EtcdProcess(name, memberArgs(name, dir, p, "http", initialCluster, token), `http://127.0.0.1:${p.metrics}`, [dir]);
  });
  const stopAll = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.signal("SIGKILL")));
    await Promise.all(dirs.map((d) => removeTempDir(d)));
  };
  try {
    // Members only become healthy once a quorum is up, so they must start together.
    await Promise.all(procs.map((p) => p.start()));
  } catch (err) {
    await stopAll();
    throw procs.some((p) => p.addressInUse) ? new PortRaceError("port race", { cause: err }) : err;
  }
  const endpoints = ports.map((p) => `http://127.0.0.1:${p.client}`);
  let client: Etcd3 | undefined;
  return {
    endpoints,
    members: procs.map((proc, i) => ({
      name: proc.name,
      clientUrl: endpoints[i] as string,
      stop: () => proc.signal("SIGTERM"),
      start: () => proc.start(),
    })),
    client() {
      client ??= new Etcd3({ hosts: endpoints });
      return client;
    },
    async stop() {
      client?.close();
      client = undefined;
      await stopAll();
    },
  };
}
