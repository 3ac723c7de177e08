// The changes the watch benchmarks make, and waiting for their effect on the rendered files.
/* global setTimeout, clearTimeout, setInterval, clearInterval */
import { watch } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { LOCAL_NODE, nodeName } from "./cluster.mjs";

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

const TOKENS = { "bird.cfg": /neighbor (\S+) /g, "bird_aggr.cfg": /route (\S+) blackhole;/g };

/** The tokens (peer addresses, block CIDRs) a rendered file holds, for checking many changes at once. */
export function tokensOf(file, content) {
  return new Set(Array.from(content.matchAll(TOKENS[file]), (m) => m[1]));
}

/**
 * Watch a directory (inotify through fs.watch; perch installs by rename, so the destination's
 * name shows up in an event) and wait for a file's content to satisfy a predicate. A 25 ms poll
 * backs the events up. The time reported is when the read that first matched completed.
 */
export function watchDir(dir) {
  const waiters = new Set();
  const watcher = watch(dir, (_type, filename) => {
    for (const w of waiters) if (filename === null || filename === w.base) w.poke();
  });
  return {
    waitFor(file, accept, timeoutMs = 30_000) {
      const full = path.join(dir, file);
      return new Promise((resolve, reject) => {
        let reading = false;
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
              (content) => {
                const at = performance.now();
                reading = false;
                if (finished) return;
                if (accept(content)) {
                  finish();
                  resolve({ at, content });
                } else if (again) {
                  again = false;
                  waiter.poke();
                }
              },
              () => {
                reading = false;
                if (again) {
                  again = false;
                  waiter.poke();
                }
              },
            );
          },
        };
        const poll = setInterval(() => waiter.poke(), 25);
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
    close() {
      watcher.close();
    },
  };
}

/** Put a change, measuring when it was sent and acknowledged. */
export async function putChange(client, change) {
  const sentAt = performance.now();
  await client.put(change.key).value(change.value);
  return { sentAt, ackAt: performance.now() };
}
