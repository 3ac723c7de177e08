// `perch watch` logs to stdout asynchronously (src/log/logger.ts): a log reader that stops
// reading must not stop the daemon. A real child process whose stdout pipe nobody drains: the
// pipe fills, and the daemon must keep installing changes; once the pipe is read again, every
// line is there, whole and in order, including the ones written on the way out. A pipe whose
// reader is gone (EPIPE) has no lines to wait for: perch exits at once.
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { makeConfdir, PERCH, REPO, resourceToml, type TestConfdir } from "../helpers/confdir.js";
import { waitFor } from "../helpers/watch-process.js";

/** Resources reading the one key: each change logs a render and a write line for each. */
const RESOURCES = 10;
/** Changes made while nobody reads the log: ~20 lines of ~250 bytes each, well past a 64 KiB pipe. */
const CHANGES = 40;

let c: TestConfdir;
let child: ChildProcess | undefined;

beforeEach(async () => {
  c = await makeConfdir();
  await c.writeTemplate("app.hbs", 'value {{getv "/v"}}\n');
  for (let i = 0; i < RESOURCES; i++) await c.writeResource(`app${i}`, resourceToml("app.hbs", path.join(c.out, `app${i}.conf`), ["/v"]));
  await c.writeKeys({ "/v": "0" });
});
afterEach(async () => {
  child?.kill("SIGKILL");
  child = undefined;
  await c.cleanup();
});

/** perch watch over the test's confdir, its stdout (and stderr) a pipe of the test's. */
function startDaemon(): { proc: ChildProcess; stdout: Readable } {
  const proc = spawn("node", [PERCH, "watch", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "0ms:0ms", "--log-level", "debug"], {
    cwd: REPO,
    env: { ...process.env, NODENAME: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = proc;
  if (proc.stdout === null) throw new Error("no stdout pipe");
  return { proc, stdout: proc.stdout };
}

/** Resolves once the last resource's file holds value `v` (the pass wrote every resource by then). */
async function installed(v: number, timeoutMs = 5_000): Promise<void> {
  const last = path.join(c.out, `app${RESOURCES - 1}.conf`);
  await waitFor(`value ${v} installed`, async () => ((await readFile(last, "utf8").catch(() => "")) === `value ${v}\n` ? true : undefined), timeoutMs, 5);
}

/** Puts values 1 to `n`, one at a time, each once installed. */
async function changeUpTo(n: number): Promise<void> {
  for (let v = 1; v <= n; v++) {
    await c.writeKeys({ "/v": String(v) });
    await installed(v);
  }
}

it("perch watch keeps installing changes while nobody reads its log, and the log is whole once read", async () => {
  const { proc, stdout } = startDaemon();
  const chunks: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  // The first pass: a cold start.
  await installed(0, 15_000);

  // From here on the pipe is not drained: once the kernel's buffer is full, every write to it fails
  // with EAGAIN (a synchronous logger then slept 100 ms per line, ~2 s per change here).
  stdout.pause();
  const started = Date.now();
  await changeUpTo(CHANGES);
  const elapsedMs = Date.now() - started;

  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const ended = new Promise((resolve) => stdout.once("end", resolve));
  proc.kill("SIGTERM");
  stdout.resume();
  expect(await exited).toBe(0);
  await ended;

  const text = Buffer.concat(chunks).toString("utf8");
  expect(text.endsWith("\n")).toBe(true);
  const events = text
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const writes = (name: string) => events.filter((e) => e.event === "write" && e.resource === name && e.outcome === "written").length;
  // The first pass and every change, for every resource: nothing dropped, nothing cut.
  for (let i = 0; i < RESOURCES; i++) expect(writes(`app${i}`)).toBe(CHANGES + 1);
  // The lines written on the way out, after SIGTERM, are there too, and last.
  expect(events.at(-1)).toMatchObject({ event: "stop" });
  // Not a timing target: a stalled log must not slow each change to the pipe's retry interval.
  expect(elapsedMs).toBeLessThan(CHANGES * 1_000);
});

it("perch watch exits at once on SIGTERM when nobody reads its log any more (EPIPE), not after the log's wait", async () => {
  const { proc, stdout } = startDaemon();
  // The first pass: a cold start.
  await installed(0, 15_000);
  // The read end goes away: the daemon's next log writes fail with EPIPE, and it goes on.
  stdout.destroy();
  await changeUpTo(3);
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const stopping = Date.now();
  proc.kill("SIGTERM");
  expect(await exited).toBe(0);
  // main() waits up to 2 s for a log reader to take the last lines; a broken pipe has none.
  expect(Date.now() - stopping).toBeLessThan(1_500);
});
