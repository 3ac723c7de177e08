// Issue 19, item 12: SECURITY.md said a template printing `getenv "ETCD_PASSWORD"` would leak the
// password; the program withholds it from getenv (src/cli/main.ts). Pinned here for the one-shot
// render and for the daemon, before and after a SIGHUP reload: the default, or empty, never the value.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resourceToml, runPerch, useConfdir } from "../helpers/confdir.js";
import { startWatch, type WatchProcess } from "../helpers/watch-process.js";

const c = useConfdir();
let w: WatchProcess | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

const SECRET = "s3cret-etcd-password";
const TEMPLATE = '[{{getenv "ETCD_PASSWORD" "withheld"}}] [{{getenv "ETCD_PASSWORD"}}] [{{getenv "OTHER"}}] {{getv "/v"}}\n';

describe('getenv "ETCD_PASSWORD" in a template', () => {
  it("perch render: the default or empty, though the variable is set", async () => {
    await c.writeTemplate("t.hbs", TEMPLATE);
    await c.writeResource("t", resourceToml("t.hbs", path.join(c.out, "t.cfg"), ["/v"]));
    await c.writeKeys({ "/v": "1" });
    const r = await runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile], { env: { ETCD_PASSWORD: SECRET, OTHER: "visible" } });
    expect(r.exitCode).toBe(0);
    expect(await readFile(path.join(c.out, "t.cfg"), "utf8")).toBe("[withheld] [] [visible] 1\n");
    expect(r.all).not.toContain(SECRET);
  });

  it("perch watch: the default or empty, on the first pass, on a change and after SIGHUP re-reads the templates", async () => {
    const dest = path.join(c.out, "t.cfg");
    await c.writeTemplate("t.hbs", TEMPLATE);
    await c.writeResource("t", resourceToml("t.hbs", dest, ["/v"]));
    await c.writeKeys({ "/v": "1" });
    w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"], { ETCD_PASSWORD: SECRET, OTHER: "visible" });
    await w.waitForFile(dest, (s) => s === "[withheld] [] [visible] 1\n");
    await c.writeKeys({ "/v": "2" });
    await w.waitForFile(dest, (s) => s === "[withheld] [] [visible] 2\n");
    await c.writeTemplate("t.hbs", `again ${TEMPLATE}`);
    w.signal("SIGHUP");
    await w.waitForFile(dest, (s) => s === "again [withheld] [] [visible] 2\n");
    expect(JSON.stringify(w.events)).not.toContain(SECRET);
  });
});
