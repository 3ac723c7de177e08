// A failing reload_cmd is retried with backoff: one series per command, logged once when it starts
// (error) and once when it ends (recovered), at debug between; perch_reload_retry_* show the
// pending retry. Real commands (sh), a real prom-client registry, a real pino logger.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "../../src/command/run-command.js";
import type { ReloadReport } from "../../src/sync/reloads.js";
import { commandLabel, Metrics } from "../../src/watch/metrics.js";
import { ReloadRetrier } from "../../src/watch/reload-retry.js";
import { waitFor } from "../helpers/watch-process.js";

type Line = Record<string, unknown>;

let dir: string;
let lines: Line[];
let metrics: Metrics;
let retrier: ReloadRetrier | undefined;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "perch-reload-retry-"));
  lines = [];
  metrics = new Metrics("0.0.0-test");
});
afterEach(async () => {
  retrier?.stop();
  retrier = undefined;
  await rm(dir, { recursive: true, force: true });
});

function newRetrier(schedule: { firstMs: number; maxMs: number }): ReloadRetrier {
  const logger = pino({ level: "debug", base: undefined, timestamp: false, formatters: { level: (label) => ({ level: label }) } }, { write: (l: string) => void lines.push(JSON.parse(l) as Line) });
  retrier = new ReloadRetrier(logger, metrics, schedule);
  return retrier;
}

/** Runs `command` in the test's directory, as a pass would for resource "bird". */
async function pass(command: string): Promise<ReloadReport> {
  const result = await runCommand(command, { timeoutMs: 5_000, cwd: dir });
  return { command, resources: ["bird"], timeoutMs: 5_000, cwd: dir, result };
}

/** The value of a sample, or undefined when there is none (a label set removed). */
async function sample(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
  return values.find((v) => (v.metricName ?? name) === name && Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value;
}

describe("ReloadRetrier", () => {
  it("a reload that fails 3 times, then succeeds: one error line, two debug lines, one 'recovered'; the counts and the pending retry", async () => {
    // Counts its attempts in its working directory (the pass's, where the retries must run too); the fourth succeeds.
    const command = 'n=$(($(cat attempts 2>/dev/null || echo 0) + 1)); echo $n > attempts; test $n -ge 4 || { echo "attempt $n refused" >&2; exit 1; }';
    const label = commandLabel(command);
    const r = newRetrier({ firstMs: 20, maxMs: 50 });
    const first = await pass(command);
    metrics.observePass({ resources: [], reloads: [first], ok: false, changed: true, durationMs: 1 });
    const before = Date.now();
    r.afterPass([first]);
    expect(await sample("perch_reload_retry_pending", { command: label })).toBe(1);
    const next = (await sample("perch_reload_retry_next_timestamp_seconds", { command: label })) as number;
    expect(next * 1000).toBeGreaterThanOrEqual(before + 20 - 1);
    expect(next * 1000).toBeLessThan(Date.now() + 20 + 1);

    await waitFor("the recovery", () => lines.find((l) => l.outcome === "recovered"), 10_000);
    expect(lines).toEqual([
      {
        level: "error",
        event: "reload",
        command,
        outcome: "failed",
        attempt: 1,
        retryInMs: 20,
        err: "exit status 1: attempt 1 refused",
        resources: ["bird"],
        exitCode: 1,
        timedOut: false,
        output: "attempt 1 refused\n",
        msg: "reload failed; retrying with backoff until it succeeds",
      },
      { level: "debug", event: "reload", command, outcome: "failed", attempt: 2, retryInMs: 40, err: "exit status 1: attempt 2 refused", msg: "reload still failing" },
      { level: "debug", event: "reload", command, outcome: "failed", attempt: 3, retryInMs: 50, err: "exit status 1: attempt 3 refused", msg: "reload still failing" },
      { level: "info", event: "reload", command, outcome: "recovered", attempts: 4, msg: "reload recovered after 4 attempts" },
    ]);
    expect((await readFile(path.join(dir, "attempts"), "utf8")).trim()).toBe("4");
    expect(await sample("perch_reloads_total", { command: label, outcome: "failed" })).toBe(3);
    expect(await sample("perch_reloads_total", { command: label, outcome: "ok" })).toBe(1);
    expect(await sample("perch_reload_duration_seconds", { command: label })).toBeUndefined();
    expect(await sample("perch_reload_retry_pending", { command: label })).toBeUndefined();
    expect(await sample("perch_reload_retry_next_timestamp_seconds", { command: label })).toBeUndefined();
  });

  it("a pass that runs the command is an attempt of its series: failing it continues the backoff, succeeding ends it; a later failure starts a new series", async () => {
    const fails = await pass("echo down >&2; exit 1");
    const works = await pass("true");
    const command = "sv hup bird";
    const r = newRetrier({ firstMs: 60_000, maxMs: 600_000 });
    r.afterPass([{ ...fails, command }]);
    r.afterPass([{ ...fails, command }]);
    expect(await sample("perch_reload_retry_pending", { command })).toBe(1);
    r.afterPass([{ ...works, command }]);
    expect(await sample("perch_reload_retry_pending", { command })).toBeUndefined();
    r.afterPass([{ ...fails, command }]);
    expect(lines.map((l) => [l.level, l.outcome, l.attempt ?? l.attempts, l.retryInMs])).toEqual([
      ["error", "failed", 1, 60_000],
      ["debug", "failed", 2, 120_000],
      ["info", "recovered", 3, undefined],
      ["error", "failed", 1, 60_000],
    ]);
    expect(await sample("perch_reload_retry_pending", { command })).toBe(1);
  });

  it("a command gone from conf.d (SIGHUP) ends its series: no more retries, no pending gauge; the others go on", async () => {
    const r = newRetrier({ firstMs: 30, maxMs: 30 });
    const gone = { ...(await pass("echo run >> gone; exit 1")), command: "echo run >> gone; exit 1" };
    const kept = { ...(await pass("exit 1")), command: "exit 1" };
    r.afterPass([gone, kept]);
    r.keepOnly(new Set(["exit 1"]));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await readFile(path.join(dir, "gone"), "utf8")).toBe("run\n");
    expect(await sample("perch_reload_retry_pending", { command: commandLabel(gone.command) })).toBeUndefined();
    expect(await sample("perch_reload_retry_pending", { command: "exit 1" })).toBe(1);
  });

  it("stopped, it starts no series and runs nothing more", async () => {
    const r = newRetrier({ firstMs: 1, maxMs: 1 });
    const fails = await pass("echo run >> runs; exit 1");
    r.stop();
    r.afterPass([fails]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines).toEqual([]);
    expect(await readFile(path.join(dir, "runs"), "utf8")).toBe("run\n");
    expect(await sample("perch_reload_retry_pending", { command: fails.command })).toBeUndefined();
  });
});

describe("commandLabel", () => {
  it("keeps a short command as it is: Calico's bird and bird6 reloads stay apart", () => {
    expect(commandLabel("sv hup bird")).toBe("sv hup bird");
    expect(commandLabel("sv hup bird6")).toBe("sv hup bird6");
  });

  it("cuts a long or multi-line command to 48 characters ending in ~ and a hash, distinct for commands that start alike", () => {
    const a = commandLabel("/usr/local/bin/birdcl -s /run/bird/bird.ctl configure soft");
    const b = commandLabel("/usr/local/bin/birdcl -s /run/bird/bird6.ctl configure soft");
    // README's example.
    expect(a).toBe("/usr/local/bin/birdcl -s /run/bird/bird~f7c65637");
    expect(a).toHaveLength(48);
    expect(b).not.toBe(a);
    expect(commandLabel("/usr/local/bin/birdcl -s /run/bird/bird.ctl configure soft")).toBe(a);
    expect(commandLabel("birdc configure\nbirdc6 configure")).toMatch(/^birdc configure birdc6 configure~[0-9a-f]{8}$/);
  });
});
