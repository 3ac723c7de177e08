/**
 * Throwaway network namespaces for end-to-end tests: N node namespaces, each with one veth into a
 * "switch" namespace that bridges them (full L2 reachability), and BIRD daemons inside them.
 * Nothing here touches the host's own namespace beyond creating and deleting the namespaces
 * themselves. Namespace names carry the creating process id, so a crashed run's leftovers are
 * recognised and removed, and every namespace (with the processes in it) is deleted on teardown,
 * on process exit, and — for a SIGKILLed test process — by a watchdog shell.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { execa } from "execa";
import { waitFor } from "./watch-process.js";
import { onTestProcessExit } from "./exit-hooks.js";

const IP = "/usr/sbin/ip";
const BIRD = "/usr/sbin/bird";
const BIRDC = "/usr/sbin/birdc";
/** Every namespace this module creates starts with this, then `<pid>-<random>-`. */
const NS_PREFIX = "perch-e2e-";

export interface NetnsNode {
  /** The node name, e.g. `n1`. */
  name: string;
  /** The namespace it lives in. */
  ns: string;
  /** Its address on the shared link (`eth0`, a /24). */
  address: string;
}

export interface Topology {
  nodes: NetnsNode[];
  /** Kill every process in the namespaces, delete them (their veths go with them), stop the watchdog. */
  teardown(): Promise<void>;
}

export interface BirdDaemon {
  ns: string;
  ctl: string;
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping: what exists now, so that exit hooks can remove it synchronously.

const liveNamespaces = new Set<string>();
/** Each BIRD child's exit, by namespace, for teardown to wait on. */
const birdsByNamespace = new Map<string, Array<Promise<void>>>();
const watchdogs = new Set<ChildProcess>();
function destroyNamespaceSync(ns: string): void {
  const pids = spawnSync(IP, ["netns", "pids", ns], { encoding: "utf8" }).stdout ?? "";
  for (const pid of pids.split("\n").filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  spawnSync(IP, ["netns", "delete", ns]);
}

function destroyEverythingNow(): void {
  for (const ns of liveNamespaces) destroyNamespaceSync(ns);
  liveNamespaces.clear();
  for (const dog of watchdogs) dog.kill("SIGKILL");
  watchdogs.clear();
}

/**
 * A SIGKILLed test process runs no exit hook: a detached shell deletes the namespaces (and
 * whatever runs in them) once the test process is gone. Teardown kills it when it is not needed.
 */
function startWatchdog(namespaces: string[]): ChildProcess {
  const script = [
    'parent="$1"; shift',
    'while kill -0 "$parent" 2>/dev/null; do sleep 1; done',
    'for ns in "$@"; do',
    `  for pid in $(${IP} netns pids "$ns" 2>/dev/null); do kill -9 "$pid"; done`,
    `  ${IP} netns delete "$ns" 2>/dev/null`,
    "done",
  ].join("\n");
  const dog = spawn("/bin/sh", ["-c", script, "perch-netns-watchdog", String(process.pid), ...namespaces], {
    detached: true,
    stdio: "ignore",
  });
  dog.unref();
  watchdogs.add(dog);
  return dog;
}

async function destroyNamespace(ns: string): Promise<void> {
  const { stdout } = await execa(IP, ["netns", "pids", ns], { reject: false });
  for (const pid of stdout.split("\n").filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await Promise.all(birdsByNamespace.get(ns) ?? []);
  birdsByNamespace.delete(ns);
  await execa(IP, ["netns", "delete", ns], { reject: false });
  liveNamespaces.delete(ns);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Namespaces with our prefix whose creating process is gone: a crashed run's. */
async function removeLeftovers(): Promise<void> {
  const { stdout } = await execa(IP, ["netns", "list"]);
  for (const line of stdout.split("\n")) {
    const ns = line.split(" ")[0] ?? "";
    const owner = new RegExp(`^${NS_PREFIX}(\\d+)-`).exec(ns)?.[1];
    if (owner !== undefined && !processAlive(Number(owner))) await destroyNamespace(ns);
  }
}

// ---------------------------------------------------------------------------------------------
// Commands inside a namespace

/** `ip netns exec <ns> <cmd> <args…>`; rejects (with the command's stderr) on a non-zero exit. */
export async function exec(ns: string, cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await execa(IP, ["netns", "exec", ns, cmd, ...args], { stdin: "ignore" });
  return { stdout, stderr };
}

/** Fails with what is missing when this process cannot create namespaces. */
async function assertCanCreateNamespaces(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error(`the end-to-end BGP test must run as root: it creates network namespaces and veth pairs (running as uid ${String(process.getuid?.())})`);
  }
  const probe = `${NS_PREFIX}${process.pid}-probe`;
  const added = await execa(IP, ["netns", "add", probe], { reject: false, all: true });
  if (added.failed) {
    throw new Error(`cannot create a network namespace ("${IP} netns add ${probe}" failed: ${added.all ?? added.shortMessage}); the end-to-end BGP test needs CAP_SYS_ADMIN and a writable /run/netns`);
  }
  await execa(IP, ["netns", "delete", probe], { reject: false });
}

/**
 * Nodes `names[i]` get namespace `<base>-<name>` and address `10.99.0.<i+1>/24` on `eth0`; the
 * other end of each veth (`p<i+1>`) is a port of bridge `br0` in `<base>-sw`. `lo` is up
 * everywhere, as on a real host.
 */
export async function createTopology(names: string[]): Promise<Topology> {
  await assertCanCreateNamespaces();
  await removeLeftovers();
  onTestProcessExit(destroyEverythingNow);
  const base = `${NS_PREFIX}${process.pid}-${randomBytes(3).toString("hex")}`;
  const switchNs = `${base}-sw`;
  const nodes = names.map((name, i) => ({ name, ns: `${base}-${name}`, address: `10.99.0.${i + 1}` }));
  const all = [switchNs, ...nodes.map((n) => n.ns)];
  const dog = startWatchdog(all);

  const teardown = async (): Promise<void> => {
    // Nodes first: their processes die before the links they use go away with the switch.
    for (const ns of [...nodes.map((n) => n.ns), switchNs]) await destroyNamespace(ns);
    dog.kill("SIGKILL");
    watchdogs.delete(dog);
  };

  try {
    for (const ns of all) {
      liveNamespaces.add(ns);
      await execa(IP, ["netns", "add", ns]);
      await execa(IP, ["-n", ns, "link", "set", "lo", "up"]);
    }
    await execa(IP, ["-n", switchNs, "link", "add", "br0", "type", "bridge"]);
    await execa(IP, ["-n", switchNs, "link", "set", "br0", "up"]);
    for (const [i, node] of nodes.entries()) {
      const port = `p${i + 1}`;
      // Created inside the switch namespace with the peer moved straight into the node's: no
      // interface ever appears in the host's namespace.
      await execa(IP, ["-n", switchNs, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", node.ns]);
      await execa(IP, ["-n", switchNs, "link", "set", port, "master", "br0", "up"]);
      await execa(IP, ["-n", node.ns, "addr", "add", `${node.address}/24`, "dev", "eth0"]);
      await execa(IP, ["-n", node.ns, "link", "set", "eth0", "up"]);
    }
  } catch (err) {
    await teardown();
    throw err;
  }
  return { nodes, teardown };
}

// ---------------------------------------------------------------------------------------------
// BIRD

/**
 * Starts BIRD 1.6 in `ns` on `<configDir>/bird.cfg`, with its control socket and pid file beside
 * it, and resolves once it answers on the socket. The cwd is `configDir`, as in calico/node,
 * although BIRD 1.6.8 resolves a relative `include` against the including file's directory, not
 * its working directory. It runs in the foreground (`-f`) as this process's child: teardown waits
 * for its exit (a daemonised BIRD is orphaned to init, which may reap it late), and an early exit
 * is reported with BIRD's own words. Teardown of the namespace kills it.
 */
export async function startBird(ns: string, configDir: string): Promise<BirdDaemon> {
  const ctl = path.join(configDir, "bird.ctl");
  const args = ["-f", "-c", path.join(configDir, "bird.cfg"), "-s", ctl, "-P", path.join(configDir, "bird.pid")];
  // `ip netns exec` execs BIRD in place: this child is BIRD itself.
  const child = execa(IP, ["netns", "exec", ns, BIRD, ...args], { cwd: configDir, reject: false, stdin: "ignore", all: true });
  birdsByNamespace.set(ns, [...(birdsByNamespace.get(ns) ?? []), child.then(() => undefined)]);
  let exited = false;
  void child.then(() => (exited = true));
  await waitFor(
    `BIRD in ${ns} to answer on ${ctl}`,
    async () => {
      if (exited) {
        const r = await child;
        throw new Error(`BIRD in ${ns} exited (${r.signal ?? `status ${String(r.exitCode)}`}): ${r.all}`);
      }
      return birdc(ns, ctl, "show status").then(
        () => true,
        () => undefined,
      );
    },
    10_000,
    50,
  );
  return { ns, ctl };
}

/** `birdc -s <ctl> <command>` inside `ns`: BIRD's answer. */
export async function birdc(ns: string, ctl: string, command: string): Promise<string> {
  const { stdout } = await exec(ns, BIRDC, ["-s", ctl, command]);
  return stdout;
}

/** Everything needed to see why a wait on BIRD failed, per node: its protocols and routes, and what `extra` adds. */
export async function birdDiagnostics<N extends { name: string; ns: string; bird: BirdDaemon }>(nodes: readonly N[], extra: (node: N) => Array<[string, () => Promise<string>]>): Promise<string> {
  const sections: string[] = [];
  const capture = async (title: string, run: () => Promise<string>): Promise<void> => {
    const text = await run().catch((err: unknown) => `(failed: ${err instanceof Error ? err.message : String(err)})`);
    sections.push(`--- ${title} ---\n${text}`);
  };
  for (const node of nodes) {
    await capture(`${node.name}: birdc show protocols all`, () => birdc(node.ns, node.bird.ctl, "show protocols all"));
    await capture(`${node.name}: birdc show route`, () => birdc(node.ns, node.bird.ctl, "show route"));
    for (const [title, run] of extra(node)) await capture(`${node.name}: ${title}`, run);
  }
  return sections.join("\n");
}
