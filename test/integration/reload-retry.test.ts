// issue 22: a reload_cmd that fails 3 times, then succeeds, under a real `perch watch`: retried with
// backoff (1 s, 2 s, 4 s) in the destination's directory; one error line when the series starts, one
// "recovered" line when it ends, the attempts between at debug; the pending retry in
// perch_reload_retry_pending and perch_reload_retry_next_timestamp_seconds while it waits.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { resourceToml, useConfdir } from "../helpers/confdir.js";
import { startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";
import { commandLabel } from "../../src/watch/metrics.js";

const c = useConfdir();
let w: WatchProcess | undefined;
afterEach(async () => {
  expect(await w?.stop()).toBe(0);
  w = undefined;
});

it("a reload failing 3 times then succeeding: one error line, one recovered line, debug between; the metrics follow", async () => {
  // Counts its attempts in the destination's directory (c.out); the fourth succeeds.
  const command = 'n=$(($(cat attempts 2>/dev/null || echo 0) + 1)); echo $n > attempts; test $n -ge 4 || { echo "bird: attempt $n refused" >&2; exit 1; }';
  await c.writeTemplate("t.hbs", '{{getv "/k"}}\n');
  await c.writeResource("bird", resourceToml("t.hbs", path.join(c.out, "bird.cfg"), ["/k"], `reload_cmd = '${command}'`));
  await c.writeKeys({ "/k": "v" });
  w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile]);
  const live = w;

  await live.waitForEvent((e) => e.event === "reload" && e.level === "error");
  const pending = await waitFor("the pending retry's metrics", async () => {
    const text = await (await fetch(`http://127.0.0.1:${live.port}/metrics`)).text();
    const next = /^perch_reload_retry_next_timestamp_seconds\{command="([^"]+)"\} (\S+)$/m.exec(text);
    return next && /^perch_reload_retry_pending\{command="[^"]+"\} 1$/m.test(text) ? { command: next[1] as string, at: Number(next[2]) } : undefined;
  });
  // A long command: cut, with a hash.
  expect(pending.command).toBe(commandLabel(command));
  expect(pending.command).toMatch(/^n=\$\(\(\$\(cat attempts 2>\/dev\/null \|\| echo~[0-9a-f]{8}$/);
  expect(pending.at * 1000).toBeGreaterThan(Date.now() - 5_000);
  expect(pending.at * 1000).toBeLessThan(Date.now() + 5_000);

  await live.waitForEvent((e) => e.event === "reload" && e.outcome === "recovered", 20_000);
  const reloads = live.events.filter((e) => e.event === "reload");
  expect(reloads.map((e) => [e.level, e.outcome, e.attempt ?? e.attempts, e.retryInMs, e.err])).toEqual([
    // The pass's run: its own line at debug, the series reports it.
    ["debug", "failed", undefined, undefined, "exit status 1"],
    ["error", "failed", 1, 1_000, "exit status 1: bird: attempt 1 refused"],
    ["debug", "failed", 2, 2_000, "exit status 1: bird: attempt 2 refused"],
    ["debug", "failed", 3, 4_000, "exit status 1: bird: attempt 3 refused"],
    ["info", "recovered", 4, undefined, undefined],
  ]);
  expect(reloads[1]).toMatchObject({ command, resources: ["bird"], exitCode: 1, output: "bird: attempt 1 refused\n", msg: "reload failed; retrying with backoff until it succeeds" });
  expect(reloads[4]?.msg).toBe("reload recovered after 4 attempts");
  expect(await readFile(path.join(c.out, "attempts"), "utf8")).toBe("4\n");

  const text = await (await fetch(`http://127.0.0.1:${live.port}/metrics`)).text();
  // The label holds "=" and "|", which WatchProcess.metric does not parse: the exposition's lines as they are.
  const labelled = `command="${pending.command}"`;
  expect(text).toContain(`\nperch_reloads_total{${labelled},outcome="failed"} 3\n`);
  expect(text).toContain(`\nperch_reloads_total{${labelled},outcome="ok"} 1\n`);
  expect(text).toContain(`\nperch_reload_duration_seconds_count{${labelled}} 4\n`);
  expect(text).not.toMatch(/^perch_reload_retry_pending\{/m);
  expect(text).not.toMatch(/^perch_reload_retry_next_timestamp_seconds\{/m);
  // One pass: the retries ran no pass of their own.
  expect(live.events.filter((e) => e.event === "pass")).toHaveLength(1);
}, 40_000);
