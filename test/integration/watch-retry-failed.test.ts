// issue 19, item 4: a resource whose render, check or write failed is retried with backoff until it
// succeeds, without any store change; meanwhile /readyz names it (not ready), a metric says since
// when, and no pass is "ok". A checked file that failed because of an include is checked again as
// soon as the include changes.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resourceToml, useConfdir } from "../helpers/confdir.js";
import { startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";

const c = useConfdir();
let w: WatchProcess | undefined;
afterEach(async () => {
  expect(await w?.stop()).toBe(0);
  w = undefined;
});

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: await res.text() };
}

describe("a failed resource is retried (issue 19, item 4)", () => {
  it("a check that fails until a marker exists: retried, /readyz names it, the metric is set, then it is installed without any store change", async () => {
    const marker = path.join(c.dir, "marker");
    const dest = path.join(c.out, "t.txt");
    await c.writeKeys({ "/k": "v" });
    await c.writeTemplate("t.hbs", '{{getv "/k"}}\n');
    await c.writeResource("t", resourceToml("t.hbs", dest, ["/k"], `check_cmd = "test -e ${marker}"`));
    w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"]);
    const port = w.port;
    await waitFor("two failed attempts", () => (w?.events.filter((e) => e.event === "write" && e.outcome === "check-failed").length ?? 0) >= 2 || undefined);
    const before = await readyz(port);
    expect(before.status).toBe(503);
    expect(before.body).toMatch(/^t: check-failed since \d{4}-\d\d-\d\dT[\d:.]+Z: check_cmd failed/m);
    expect(await w.metric("perch_resource_failing", { resource: "t" })).toBe(1);
    expect(await w.metric("perch_resource_failing_since_seconds", { resource: "t" })).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(w.events.some((e) => e.event === "pass" && e.ok === true)).toBe(false);
    expect(w.events.some((e) => e.event === "retry" && typeof e.retryInMs === "number")).toBe(true);
    // Once per series: the first failure at error and its retry announced at warn; the same failure again at debug.
    const failures = w.events.filter((e) => e.event === "write" && e.outcome === "check-failed");
    expect(failures.map((e) => e.level)).toEqual(["error", ...failures.slice(1).map(() => "debug")]);
    const retries = w.events.filter((e) => e.event === "retry");
    expect(retries.map((e) => e.level)).toEqual(["warn", ...retries.slice(1).map(() => "debug")]);

    await writeFile(marker, "");
    await w.waitForFile(dest, (s) => s === "v\n", 10_000);
    await waitFor("ready", async () => ((await readyz(port)).status === 200 ? true : undefined), 5_000);
    expect(await w.metric("perch_resource_failing", { resource: "t" })).toBe(0);
    expect(w.events.filter((e) => e.event === "pass").at(-1)?.ok).toBe(true);
  }, 30_000);

  it("a write that fails (its directory missing) is retried and succeeds once the directory exists", async () => {
    const dir = path.join(c.out, "later");
    const dest = path.join(dir, "t.txt");
    await c.writeKeys({ "/k": "v" });
    await c.writeTemplate("t.hbs", '{{getv "/k"}}\n');
    await c.writeResource("t", resourceToml("t.hbs", dest, ["/k"]));
    w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"]);
    await waitFor("two failed writes", () => (w?.events.filter((e) => e.event === "write" && e.outcome === "failed").length ?? 0) >= 2 || undefined);
    const before = await readyz(w.port);
    expect(before.status).toBe(503);
    expect(before.body).toMatch(/^t: failed since /m);
    expect(await w.metric("perch_resource_failing", { resource: "t" })).toBe(1);
    await mkdir(dir);
    await w.waitForFile(dest, (s) => s === "v\n", 10_000);
    await waitFor("ready", async () => ((await readyz(w?.port ?? 0)).status === 200 ? true : undefined), 5_000);
  }, 30_000);

  it("a file whose check failed because of its include is checked again once the include is fixed; no pass is ok meanwhile", async () => {
    const include = path.join(c.out, "inc.cfg");
    const main = path.join(c.out, "main.cfg");
    await c.writeKeys({ "/v": "bad" });
    await c.writeTemplate("inc.hbs", '{{getv "/v"}}\n');
    await c.writeTemplate("main.hbs", "include inc.cfg\n");
    await c.writeResource("inc", resourceToml("inc.hbs", include, ["/v"]));
    await c.writeResource("main", resourceToml("main.hbs", main, ["/none"], `check_cmd = "grep -qx good ${include}"`));
    w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"]);
    await w.waitForFile(include, (s) => s === "bad\n");
    await waitFor("main's check to fail", () => w?.events.find((e) => e.event === "write" && e.resource === "main" && e.outcome === "check-failed"));
    await expect(readFile(main, "utf8")).rejects.toThrow(/ENOENT/);
    expect((await readyz(w.port)).body).toMatch(/^main: check-failed since /m);

    const from = w.events.length;
    await c.writeKeys({ "/v": "good" });
    await w.waitForFile(main, (s) => s === "include inc.cfg\n", 10_000);
    // The log is written asynchronously: the file can be there before the pass's line. No pass was
    // "ok" while main was missing; the one that installed it is.
    await waitFor("the ok pass", () => w?.events.slice(from).find((e) => e.event === "pass" && e.ok === true));
    await waitFor("ready", async () => ((await readyz(w?.port ?? 0)).status === 200 ? true : undefined), 5_000);
    expect(w.events.filter((e) => e.event === "pass" && e.ok === true).length).toBe(1);
  }, 30_000);
});
