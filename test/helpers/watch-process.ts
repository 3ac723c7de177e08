// Run `perch watch` as a real child process: its JSON log lines, its status server, and waits
// with bounds for what a test expects to happen.
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { execa, type ResultPromise } from "execa";
import { PERCH, REPO } from "./confdir.js";

export interface WatchProcess {
  proc: ResultPromise;
  port: number;
  /** Every log event so far, parsed. */
  events: Array<Record<string, unknown>>;
  exited: boolean;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  readyz(): Promise<number>;
  /** Resolves with the file's content once `accept` returns true; rejects after `timeoutMs`. */
  waitForFile(file: string, accept: (content: string) => boolean, timeoutMs?: number): Promise<string>;
  waitForEvent(accept: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<number | undefined>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function startWatch(args: string[], env: NodeJS.ProcessEnv = {}): Promise<WatchProcess> {
  const port = await freePort();
  const proc = execa("node", [PERCH, "watch", "--listen", `127.0.0.1:${port}`, "--log-level", "debug", ...args], {
    cwd: REPO,
    reject: false,
    env: { NODENAME: "", ...env },
    stdin: "ignore",
  });
  const events: Array<Record<string, unknown>> = [];
  let buffer = "";
  proc.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        events.push({ raw: line });
      }
    }
  });
  const w: WatchProcess = {
    proc,
    port,
    events,
    exited: false,
    async metric(name, labels = {}) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      let total = 0;
      for (const line of text.split("\n")) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = Object.fromEntries((m[2] ?? "").split(",").filter(Boolean).map((kv) => kv.split("=").map((s) => s.replace(/"/g, ""))));
        if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
      }
      return total;
    },
    async readyz() {
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
    },
    waitForFile(file, accept, timeoutMs = 15_000) {
      return waitFor(`${file} to have the expected content`, async () => {
        const content = await readFile(file, "utf8").catch(() => undefined);
        return content !== undefined && accept(content) ? content : undefined;
      }, timeoutMs, 5);
    },
    waitForEvent(accept, timeoutMs = 15_000) {
      return waitFor("a log event", () => events.find(accept), timeoutMs);
    },
    signal(sig) {
      proc.kill(sig);
    },
    async stop() {
      if (!w.exited) proc.kill("SIGTERM");
      const result = await proc;
      return result.exitCode;
    },
  };
  void proc.then(() => {
    w.exited = true;
  });
  await waitFor("perch watch to serve /healthz", async () => {
    if (w.exited) throw new Error(`perch watch exited early: ${(await proc).stderr}\n${events.map((e) => JSON.stringify(e)).join("\n")}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    return ok ? true : undefined;
  });
  return w;
}

/**
 * Polls until `mismatches` is empty; on timeout, fails with the last mismatches under `label` and
 * what `diagnostics` says of the state of every node.
 */
export async function waitUntilNone(what: string, mismatches: () => Promise<string[]>, label: string, diagnostics: () => Promise<string>, timeoutMs: number, everyMs: number): Promise<void> {
  let last: string[] = [];
  try {
    await waitFor(
      what,
      async () => {
        last = await mismatches();
        return last.length === 0 ? true : undefined;
      },
      timeoutMs,
      everyMs,
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message}\n${label}:\n  ${last.join("\n  ")}\n${await diagnostics()}`, { cause: err });
  }
}
