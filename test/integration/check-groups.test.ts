// Issue 19, item 1: check groups (check_covers). BIRD is never handed a set it rejects: a change to
// an included file is checked with the file that includes it, against the new set, before any of
// them is installed; a failure names the file whose change broke it, and runs no reload.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { copyCalicoSet, REPO, resourceToml, runPerch, useConfdir } from "../helpers/confdir.js";
import { startWatch, type WatchProcess } from "../helpers/watch-process.js";

const run = promisify(execFile);
type Event = Record<string, unknown>;
const isEvent = (fields: Event) => (e: Event) => Object.entries(fields).every(([k, v]) => e[k] === v);

const c = useConfdir();
let w: WatchProcess | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.includes(".perch-stage-"));
}

describe("the shipped BIRD set and a pool stock BIRD refuses", () => {
  const CONFIG = "etc/calico/confd/config";

  async function setUp(): Promise<{ root: string; keys: string; marker: string; confdir: string; render: (...extra: string[]) => ReturnType<typeof runPerch> }> {
    const marker = path.join(c.dir, "reloaded");
    const confdir = await copyCalicoSet(path.join(c.dir, "calico"), (toml) => toml.replace(/^reload_cmd = .*$/m, `reload_cmd = "echo r >> ${marker}"`));
    const root = path.join(c.dir, "root");
    await mkdir(path.join(root, CONFIG), { recursive: true });
    const keys = path.join(c.dir, "keys.json");
    await writeFile(keys, await readFile(path.join(REPO, "examples/keys.json"), "utf8"));
    const render = (...extra: string[]) => runPerch(["render", "--confdir", confdir, "--backend", "file", "--keys", keys, "--node-name", "node-a", "--root", root, "--only", "bird", ...extra]);
    return { root, keys, marker, confdir, render };
  }

  /** Stock BIRD 1.6 has no krt_tunnel (Calico's fork does): an IPIP pool makes bird_ipam.cfg one it refuses. */
  async function ipipPool(keys: string): Promise<void> {
    const text = await readFile(keys, "utf8");
    const changed = text.replace('\\"ipip\\":\\"\\",\\"ipip_mode\\":\\"\\",\\"vxlan_mode\\":\\"always\\"', '\\"ipip\\":\\"tunl0\\",\\"ipip_mode\\":\\"always\\",\\"vxlan_mode\\":\\"\\"');
    expect(changed).not.toBe(text);
    await writeFile(keys, changed);
  }

  it("bird_ipam.cfg is not installed, the failure names it, no reload runs, and the installed set still parses", async () => {
    const { root, keys, marker, render } = await setUp();
    const dir = path.join(root, CONFIG);
    const first = await render();
    expect(first.exitCode, first.all).toBe(0);
    expect((await readFile(marker, "utf8")).split("\n").filter(Boolean)).toHaveLength(1);
    const before = await readFile(path.join(dir, "bird_ipam.cfg"), "utf8");

    await ipipPool(keys);
    const r = await render();
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^unchanged\s+bird\s/);
    expect(lines[1]).toMatch(/^unchanged\s+bird_aggr\s/);
    expect(lines[2]).toMatch(/^check-failed\s+bird_ipam\s/);
    expect(lines[3]).toMatch(/^ {4}bird\.cfg's check_cmd failed with the new bird_ipam\.cfg: exit status 1: bird: .*bird_ipam\.cfg:\d+:\d+ You may set only variables\.$/);
    expect(await readFile(path.join(dir, "bird_ipam.cfg"), "utf8")).toBe(before);
    expect((await readFile(marker, "utf8")).split("\n").filter(Boolean)).toHaveLength(1);
    await run("bird", ["-p", "-c", "bird.cfg"], { cwd: dir });
    expect(await leftovers(dir)).toEqual([]);
  });

  it("--noop runs the group's check (a CI gate), touching nothing; --noop --no-check does not", async () => {
    const { root, keys, render } = await setUp();
    const dir = path.join(root, CONFIG);
    expect((await render()).exitCode).toBe(0);
    await ipipPool(keys);
    const gate = await render("--noop");
    expect(gate.exitCode).toBe(1);
    expect(gate.stdout).toMatch(/\ncheck-failed\s+bird_ipam\s+\S+\n {4}bird\.cfg's check_cmd failed with the new bird_ipam\.cfg: exit status 1: /);
    const unchecked = await render("--noop", "--no-check");
    expect(unchecked.exitCode).toBe(0);
    expect(unchecked.stdout).toMatch(/\nwould-write\s+bird_ipam\s/);
    expect(await leftovers(dir)).toEqual([]);
    const usage = await render("--no-check");
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain("--no-check needs --noop");
  });
});

describe("check groups in general", () => {
  /** main.cfg includes inc.cfg and other.cfg; its check refuses "bad" in any of them, from the directory it runs in. */
  async function group(reload = ""): Promise<void> {
    await c.writeTemplate("main.hbs", 'main {{getv "/m"}}\n');
    await c.writeTemplate("inc.hbs", 'inc {{getv "/i"}}\n');
    await c.writeTemplate("other.hbs", 'other {{getv "/o"}}\n');
    const check = `check_cmd = '! grep -H bad {{.src}} inc.cfg other.cfg'\ncheck_covers = ["inc", "other"]`;
    await c.writeResource("main", resourceToml("main.hbs", path.join(c.out, "main.cfg"), ["/m"], `${check}\n${reload}`));
    await c.writeResource("inc", resourceToml("inc.hbs", path.join(c.out, "inc.cfg"), ["/i"], reload));
    await c.writeResource("other", resourceToml("other.hbs", path.join(c.out, "other.cfg"), ["/o"], reload));
  }
  const render = (...extra: string[]) => runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, ...extra]);
  const content = (name: string) => readFile(path.join(c.out, name), "utf8");

  it("of two changed files, names the one whose change broke the check; neither is installed", async () => {
    await group();
    await c.writeKeys({ "/m": "1", "/i": "1", "/o": "1" });
    expect((await render()).exitCode).toBe(0);
    await c.writeKeys({ "/m": "1", "/i": "2", "/o": "bad" });
    const r = await render();
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("main.cfg's check_cmd failed with the new other.cfg: exit status 1: other.cfg:other bad");
    expect([await content("main.cfg"), await content("inc.cfg"), await content("other.cfg")]).toEqual(["main 1\n", "inc 1\n", "other 1\n"]);
    expect(await leftovers(c.out)).toEqual([]);
  });

  it("perch watch: a failed group check makes the pass not ok and runs no reload; fixing the include installs the held-back main file", async () => {
    const reloads = path.join(c.dir, "reloads");
    await group(`reload_cmd = "echo r >> ${reloads}"`);
    await c.writeKeys({ "/m": "1", "/i": "1", "/o": "1" });
    w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"]);
    await w.waitForEvent(isEvent({ event: "reload", outcome: "ok" }));
    // The first pass's own "pass" event comes after its reload: it must not be taken for the next one's.
    await w.waitForEvent(isEvent({ event: "pass" }));
    const before = w.events.length;

    // main.cfg and inc.cfg change together; inc.cfg's value is one the check refuses.
    await c.writeKeys({ "/m": "2", "/i": "bad", "/o": "1" });
    const pass = await w.waitForEvent((e) => w !== undefined && w.events.indexOf(e) >= before && isEvent({ event: "pass" })(e));
    expect(pass).toMatchObject({ ok: false });
    const failures = w.events.slice(before).filter(isEvent({ event: "write", outcome: "check-failed" }));
    expect(failures.map((e) => e.resource).sort()).toEqual(["inc", "main"]);
    expect(failures[0]?.err).toMatch(/^main\.cfg's check_cmd failed with the new inc\.cfg: exit status 1: inc\.cfg:inc bad/);
    expect(await content("main.cfg")).toBe("main 1\n");

    // Only the include is fixed: main.cfg, checked with it, goes in too.
    await c.writeKeys({ "/m": "2", "/i": "3", "/o": "1" });
    await w.waitForFile(path.join(c.out, "main.cfg"), (s) => s === "main 2\n");
    expect(await content("inc.cfg")).toBe("inc 3\n");
    await w.waitForEvent((e) => w !== undefined && w.events.indexOf(e) >= before && isEvent({ event: "reload", outcome: "ok" })(e));
    expect((await readFile(reloads, "utf8")).split("\n").filter(Boolean)).toHaveLength(2);
    expect(w.events.slice(before).filter(isEvent({ event: "reload" }))).toHaveLength(1);
    // The checker's write event times its check and the staged set's fsync; a covered member's has neither.
    const writes = w.events.slice(before).filter(isEvent({ event: "write", outcome: "written" }));
    expect(writes.find((e) => e.resource === "main")).toMatchObject({ checkMs: expect.any(Number), fsyncMs: expect.any(Number) });
    expect(writes.find((e) => e.resource === "inc")).not.toHaveProperty("checkMs");
  });

  it("an install that fails after the check passed puts back the members already installed", async () => {
    await c.writeTemplate("main.hbs", 'main {{getv "/m"}}\n');
    await c.writeTemplate("inc.hbs", 'inc {{getv "/i"}}\n');
    await c.writeTemplate("new.hbs", 'new {{getv "/n"}}\n');
    const main = path.join(c.out, "main.cfg");
    // The check passes, then leaves a directory where main.cfg is: its rename, the group's last, fails.
    const sabotage = `check_cmd = 'if [ -e ${path.join(c.dir, "sabotage")} ]; then rm ${main} && mkdir ${main}; fi'\ncheck_covers = ["inc", "new"]`;
    await c.writeResource("main", resourceToml("main.hbs", main, ["/m"], sabotage));
    await c.writeResource("inc", resourceToml("inc.hbs", path.join(c.out, "inc.cfg"), ["/i"]));
    await c.writeResource("new", resourceToml("new.hbs", path.join(c.out, "new.cfg"), ["/n"]));
    await c.writeKeys({ "/m": "1", "/i": "1" });
    const first = await render();
    expect(first.exitCode, first.all).toBe(1);
    expect(existsSync(path.join(c.out, "new.cfg"))).toBe(false);

    await writeFile(path.join(c.dir, "sabotage"), "");
    await c.writeKeys({ "/m": "2", "/i": "2", "/n": "2" });
    const r = await render();
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/failed\s+main\s.*\n {4}cannot write .*main\.cfg: EISDIR: .* \(renaming the stage file over it\)/);
    expect(r.stdout).toContain("installing main.cfg of its check group failed; it was put back to its previous content");
    expect(r.stdout).toContain("installing main.cfg of its check group failed; it was removed again (it did not exist before)");
    expect(await content("inc.cfg")).toBe("inc 1\n");
    expect(existsSync(path.join(c.out, "new.cfg"))).toBe(false);
    expect(await leftovers(c.out)).toEqual([]);
  });

  it("--only of a covered resource keeps its group whole", async () => {
    await group();
    await c.writeKeys({ "/m": "1", "/i": "1", "/o": "1" });
    const r = await render("--only", "inc");
    expect(r.stdout.split("\n").map((l) => l.split(/\s+/)[1])).toEqual(["inc", "main", "other"]);
    expect(existsSync(path.join(c.out, "main.cfg"))).toBe(true);
  });

  it("conf.d errors: an unknown name, a covered file with its own check, another directory (without a check_cmd it is ignored)", async () => {
    await c.writeTemplate("t.hbs", "x\n");
    await c.writeResource("a", resourceToml("t.hbs", path.join(c.out, "a.cfg"), ["/k"], `check_cmd = "true"\ncheck_covers = ["nope", "b", "c"]`));
    await c.writeResource("b", resourceToml("t.hbs", path.join(c.out, "b.cfg"), ["/k"], `check_cmd = "true"`));
    await c.writeResource("c", resourceToml("t.hbs", path.join(c.dir, "c.cfg"), ["/k"]));
    await c.writeResource("d", resourceToml("t.hbs", path.join(c.out, "d.cfg"), ["/k"], `check_covers = ["c"]`));
    await c.writeKeys({ "/k": "v" });
    const r = await render();
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('check_covers: no resource "nope" (no nope.toml)');
    expect(r.stderr).toContain("check_covers: b has a check_cmd of its own");
    expect(r.stderr).toContain(`check_covers: c's dest ${path.join(c.dir, "c.cfg")} is not in ${path.join(c.out, "a.cfg")}'s directory`);
    expect(r.stderr).not.toContain("d.toml");
  });
});
