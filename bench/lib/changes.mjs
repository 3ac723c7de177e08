// The changes the watch benchmarks make, and waiting for their effect on the rendered files.
/* global setTimeout, clearTimeout, setInterval, clearInterval */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { LOCAL_NODE, nodeName, nodeV3 } from "./cluster.mjs";

export const CONFIG_DIR = "etc/calico/confd/config";

/**
 * Change number `c` (unique across one bench run, so no value ever repeats and an old file can
 * never match a new expectation). Even: a remote node's IPv4 address changes (bird.cfg, the
 * full-mesh file, changes); odd: the local node gets a new IPAM block (bird_aggr.cfg changes).
 */
export function makeChange(c, size, kind = c % 2 === 0 ? "ip" : "block") {
  if (kind === "ip") {
    const node = 1 + ((c * 7919) % (size - 1));
    const ip = `10.${200 + Math.floor(c / 62_500)}.${Math.floor(c / 250) % 250}.${(c % 250) + 1}`;
    return { kind, key: `/calico/bgp/v1/host/${nodeName(node)}/ip_addr_v4`, value: ip, file: "bird.cfg", needle: `neighbor ${ip} as`, token: ip };
  }
  const cidr = `10.${240 + Math.floor(c / 1024)}.${Math.floor(c / 4) % 256}.${(c % 4) * 64}`;
  return {
    kind,
    key: `/calico/ipam/v2/host/${LOCAL_NODE}/ipv4/block/${cidr}-26`,
    value: '{"state":"confirmed"}',
    file: "bird_aggr.cfg",
    needle: `route ${cidr}/26 blackhole;`,
    token: `${cidr}/26`,
  };
}

/**
 * Change number `c` as one remote node's new IPv4 address in both key models (the calico-v3
 * suite): `v1` puts its ip_addr_v4, `v3` puts its Node resource with the new ipv4Address. The
 * address stays in the node's 10.100.0.0/16, so the derived v1 view changes by that same one key
 * (a new subnet would change network_v4 too). Unique for c < 32,000; clusters use 10.100.0–127.x
 * up to 32,000 nodes.
 */
export function makeAddressChange(c, size) {
  const node = 1 + ((c * 7919) % (size - 1));
  const ip = `10.100.${128 + (Math.floor(c / 250) % 128)}.${(c % 250) + 1}`;
  const common = { kind: "ip", file: "bird.cfg", needle: `neighbor ${ip} as`, token: ip };
  return {
    v1: { ...common, key: `/calico/bgp/v1/host/${nodeName(node)}/ip_addr_v4`, value: ip },
    v3: { ...common, ...nodeV3(node, { ipv4: ip }) },
  };
}

const TOKENS = { "bird.cfg": /neighbor (\S+) /g, "bird_aggr.cfg": /route (\S+) blackhole;/g };

/** The tokens (peer addresses, block CIDRs) a rendered file holds, for checking many changes at once. */
export function tokensOf(file, content) {
  return new Set(Array.from(content.matchAll(TOKENS[file]), (m) => m[1]));
}

/**
 * Watch a directory and wait for a file's content to satisfy a predicate. perch installs a file by
 * renaming its stage file over it, which inotify reports as an event naming the destination: the
 * new content is in place from that moment. The events are stamped by a worker that does nothing
 * else (rename-events.mjs), so the bench's own work on its main thread does not delay them. Each
 * event starts a read of the file (a 100 ms poll backs them up); when a read matches (at `readAt`),
 * the change's time (`at`) is that of the last event naming the file between `since` and `readAt`,
 * or `readAt` where there was none (`byEvent` false). One change at a time (the latency suites), that
 * event is the rename that installed what the read saw; where a file changes many times in a row
 * (the burst), a later rename can land before the read ends, so that suite uses `readAt`.
 */
export async function watchDir(dir) {
  const worker = new Worker(new URL("./rename-events.mjs", import.meta.url), { workerData: { dir } });
  // performance.now() of this thread for a worker's process.hrtime.bigint() stamp.
  const hrAtZero = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
  const toNow = (hr) => Number(hr - hrAtZero) / 1e6;
  const eventTimes = new Map();
  const waiters = new Set();
  const flushes = [];
  await new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.on("message", (message) => {
      if (message === "watching") resolve();
      else if (message === "flushed") flushes.shift()();
      else {
        const at = toNow(message.hr);
        const times = eventTimes.get(message.file) ?? [];
        times.push(at);
        eventTimes.set(message.file, times);
        for (const w of waiters) if (message.file === null || message.file === w.base) w.poke();
      }
    });
  });
  /** Every event the worker stamped before now has been received. */
  const flush = () =>
    new Promise((resolve) => {
      flushes.push(resolve);
      worker.postMessage("flush");
    });
  /** The last event naming `file` in [since, until]. */
  const lastEvent = (file, since, until) => (eventTimes.get(file) ?? []).findLast((t) => t >= since && t <= until);
  return {
    waitFor(file, accept, { timeoutMs = 30_000, since = performance.now() } = {}) {
      const full = path.join(dir, file);
      return new Promise((resolve, reject) => {
        let reading = false;
        // An event that came while a read was in flight: read again after it.
        let again = false;
        let finished = false;
        const waiter = {
          base: file,
          poke() {
            if (finished) return;
            if (reading) {
              again = true;
              return;
            }
            reading = true;
            readFile(full, "utf8").then(
              async (content) => {
                const readAt = performance.now();
                reading = false;
                if (finished) return;
                if (accept(content)) {
                  finish();
                  await flush();
                  const eventAt = lastEvent(file, since, readAt);
                  resolve({ at: eventAt ?? readAt, readAt, byEvent: eventAt !== undefined, content });
                } else if (again) retry();
              },
              () => {
                reading = false;
                if (again) retry();
              },
            );
          },
        };
        const retry = () => {
          again = false;
          waiter.poke();
        };
        const poll = setInterval(() => waiter.poke(), 100);
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${full}`));
        }, timeoutMs);
        const finish = () => {
          finished = true;
          clearInterval(poll);
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
        waiter.poke();
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** Put a change, measuring when it was sent and acknowledged. */
export async function putChange(client, change) {
  const sentAt = performance.now();
  await client.put(change.key).value(change.value);
  return { sentAt, ackAt: performance.now() };
}

/**
 * A daemon's steady state, as the scale and footprint rows measure it: settle 2 s after the first pass,
 * `count` changes (`changeFor(i)`: {key, value, file, needle}, each put and waited for until `file` under
 * `dir` holds `needle`), then settle 3 s.
 */
export async function settleThroughChanges(client, dir, count, changeFor) {
  await sleep(2000);
  const watched = await watchDir(dir);
  try {
    for (let i = 0; i < count; i++) {
      const change = changeFor(i);
      await putChange(client, change);
      await watched.waitFor(change.file, (content) => content.includes(change.needle));
      await sleep(20);
    }
  } finally {
    await watched.close();
  }
  await sleep(3000);
}
