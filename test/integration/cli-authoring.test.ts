// The authoring and CI surface end to end, through the built binary: `perch check`, runtime
// template errors, `perch snapshot` and confd's command line against a real etcd, and the CI gate
// (`render --diff --exit-code --noop` against a committed render).
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PERCH, REPO, makeConfdir, resourceToml, runPerch, type TestConfdir } from "../helpers/confdir.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";

const EXAMPLES = path.join(REPO, "examples");
const EXAMPLE_KEYS = JSON.parse(await readFile(path.join(EXAMPLES, "keys.json"), "utf8")) as Record<string, string>;

/** Every file under `dir`, relative path → content. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = await readFile(file, "utf8");
  }
  return out;
}

describe("perch check", () => {
  let c: TestConfdir;
  beforeEach(async () => {
    c = await makeConfdir();
  });
  afterEach(async () => {
    await c.cleanup();
  });

  it("lists the keys each template reads and exits 0 when there is nothing to fix", async () => {
    await c.writeTemplate("peers.hbs", '{{#let node=(getenv "NODENAME")}}{{getv (printf "/host/%s/ip" @node)}}\n{{#each (ls "/global/peers") as |p|}}{{getv (printf "/global/peers/%s" p)}}{{/each}}{{/let}}\n');
    await c.writeResource("peers", resourceToml("peers.hbs", path.join(c.out, "peers.cfg"), ["/host//NODENAME", "/global"], 'prefix = "/bgp"'));
    const r = await runPerch(["check", "--confdir", c.dir]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        `peers: ${path.join(c.dir, "conf.d", "peers.toml")} → ${path.join(c.dir, "templates", "peers.hbs")}`,
        "  prefix /bgp; keys /host/<NODENAME>, /global",
        "  /global/peers        ls",
        "  /global/peers/*      getv",
        "  /host/<NODENAME>/ip  getv",
        "",
        "1 resource checked, no problems",
      ].join("\n"),
    );
  });

  it("reports every problem as file:line:column: message and exits 2", async () => {
    const tpl = path.join(c.dir, "templates", "a.hbs");
    await c.writeTemplate("a.hbs", '{{getv "/global/as"}} {{getv "/secret/x"}}\n{{getvv "/global/a"}} {{getv}}\n');
    await c.writeResource("a", resourceToml("a.hbs", path.join(c.out, "a.cfg"), ["/global"]));
    await c.writeResource("b", resourceToml("missing.hbs", path.join(c.out, "b.cfg"), ["/global"]));
    const r = await runPerch(["check", "--confdir", c.dir]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        `${tpl}:1:23: getv reads /secret/x, outside the keys of resource a (/global)`,
        `${tpl}:2:1: unknown helper getvv; did you mean getv?`,
        `${tpl}:2:23: wrong number of arguments: getv takes 1 or 2, got 0`,
        `${path.join(c.dir, "conf.d", "b.toml")}:2: template missing.hbs does not exist (looked for ${path.join(c.dir, "templates", "missing.hbs")})`,
        "perch check: 4 problems",
      ].join("\n"),
    );
    expect(r.stdout).toContain("  /secret/x   getv  OUTSIDE KEYS\n");
    expect(r.stdout).toMatch(/1 resource checked, 4 problems$/);
  });

  it("finds the typos a render would print as nothing, with a did-you-mean, and exits 2", async () => {
    const tpl = path.join(c.dir, "templates", "a.hbs");
    await c.writeTemplate("a.hbs", '{{nope}}\n{{#each (gets "/global/*")}}{{vaule}} {{@indx}}{{/each}}\n{{#with (json (getv "/global/pool")) as |pool|}}{{cidr}}{{/with}}\n');
    await c.writeResource("a", resourceToml("a.hbs", path.join(c.out, "a.cfg"), ["/global"]));
    const r = await runPerch(["check", "--confdir", c.dir]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        `${tpl}:1:3: nope renders as nothing: it is no helper, block param or field of the template's context`,
        `${tpl}:2:31: vaule renders as nothing: it is no helper, block param or field of an item of gets (its fields: key, value, Key, Value); did you mean value?`,
        `${tpl}:2:41: @indx renders as nothing: there is no data variable @indx here (there are @root, @index, @key, @first, @last); did you mean @index?`,
        `${tpl}:3:49: {{cidr}} calls the helper cidr, not the field cidr: write {{this.cidr}} or {{pool.cidr}}`,
        "perch check: 4 problems",
      ].join("\n"),
    );
  });

  it("warns about a deprecated formatter name with its new name, and still exits 0", async () => {
    const tpl = path.join(c.dir, "templates", "a.hbs");
    await c.writeTemplate("a.hbs", 'neighbor {{ip (getv "/global/ip")}} port {{asPort (getv "/global/port")}};\n');
    await c.writeResource("a", resourceToml("a.hbs", path.join(c.out, "a.cfg"), ["/global"]));
    const r = await runPerch(["check", "--confdir", c.dir]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe(`${tpl}:1:10: warning: ip is deprecated (it goes in the next release): write asIP`);
    expect(r.stdout).toMatch(/1 resource checked, no problems, 1 warning$/);
  });

  it("refuses flags that do not apply to it", async () => {
    const r = await runPerch(["check", "--confdir", c.dir, "--noop"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^perch: --noop does not apply to perch check\n/);
  });
});

describe("runtime template errors name the template file, line, column and key", () => {
  let c: TestConfdir;
  beforeEach(async () => {
    c = await makeConfdir();
  });
  afterEach(async () => {
    await c.cleanup();
  });

  async function renderError(template: string, keys: Record<string, string>): Promise<string> {
    await c.writeTemplate("t.hbs", template);
    await c.writeResource("t", resourceToml("t.hbs", path.join(c.out, "t.cfg"), ["/"]));
    await c.writeKeys(keys);
    const r = await runPerch(["render", "--confdir", c.dir, "--keys", c.keysFile]);
    expect(r.exitCode).toBe(1);
    const [outcome, error] = r.stdout.split("\n");
    expect(outcome).toMatch(/^render-failed\s+t\s/);
    return (error as string).trim().replace(`${path.join(c.dir, "templates", "t.hbs")}:`, "t.hbs:");
  }

  it("a missing key", async () => {
    expect(await renderError('ok\n  {{getv "/missing"}}\n', {})).toBe("t.hbs:2:3: key does not exist: /missing");
  });

  it("a value a formatter rejects, with the key it came from", async () => {
    expect(await renderError('router id {{ipv4 (getv "/ip")}};\n', { "/ip": "10.0.0.1; }" })).toBe('t.hbs:1:11: invalid IPv4 address "10.0.0.1; }" (from key /ip)');
  });

  it("a field of a JSON value a formatter rejects, with the key of the document", async () => {
    expect(await renderError('{{#let (json (getv "/pool")) as |p|}}{{asCIDR p.cidr}}{{/let}}', { "/pool": '{"cidr":"x"}' })).toBe('t.hbs:1:38: invalid CIDR "x" (from key /pool)');
  });

  it("a Go form fails the load with the Handlebars form to write (exit 2), as perch check reports it", async () => {
    const tpl = path.join(c.dir, "templates", "t.hbs");
    await c.writeTemplate("t.hbs", '{{/* the peers */}}\n{{range gets "/peers/*"}}{{.Value}}{{end}}\n');
    await c.writeResource("t", resourceToml("t.hbs", path.join(c.out, "t.cfg"), ["/"]));
    await c.writeKeys({});
    const message = `${tpl}:1:1: {{/* … */}} is a Go comment: write {{!-- … --}} (see the table of Go forms in docs/templates.md)`;
    const render = await runPerch(["render", "--confdir", c.dir, "--keys", c.keysFile]);
    expect(render.exitCode).toBe(2);
    expect(render.stderr).toBe(`perch render: ${message}`);
    const check = await runPerch(["check", "--confdir", c.dir]);
    expect(check.exitCode).toBe(2);
    expect(check.stderr).toBe(`${message}\nperch check: 1 problem`);
  });

  it("a helper name meant as a field of the context", async () => {
    expect(await renderError('{{#with (json (getv "/pool"))}}{{cidr}}{{/with}}', { "/pool": '{"cidr":"10.0.0.0/8"}' })).toBe(
      "t.hbs:1:32: {{cidr}} calls the helper cidr, not the field cidr: write {{this.cidr}}",
    );
  });

  it("a helper called with the wrong number of arguments", async () => {
    expect(await renderError("{{getv}}", {})).toBe("t.hbs:1:1: getv takes 1 to 2 arguments, got 0");
  });
});

describe("against a real etcd", () => {
  let etcd: EtcdServer;
  let work: string;
  const extraKeys: Record<string, string> = {
    "/calico/zz/a": "lower",
    "/calico/zz/B": "upper",
    "/calico/zz/~": "tilde",
    "/calico/zz/\u{1F600}": "astral",
    "/calico/zz/\uFFFD": "replacement",
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    const client = etcd.client();
    for (const [key, value] of Object.entries({ ...EXAMPLE_KEYS, ...extraKeys })) await client.put(key).value(value).exec();
    await client.put("/other/x").value("not snapshotted").exec();
    work = await mkdtemp(path.join(tmpdir(), "perch-authoring-"));
  });
  afterAll(async () => {
    await etcd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("perch snapshot writes the keys under each prefix as the file store reads them, in byte order", async () => {
    const out = path.join(work, "snapshot.json");
    const r = await runPerch(["snapshot", "--endpoints", etcd.clientUrl, "--prefix", "/calico/zz", "--prefix", "/calico/bgp/v1/global", "-o", out]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/^perch snapshot: 9 keys at revision \d+ → .*snapshot\.json \(written\)$/);
    const globals = Object.entries(EXAMPLE_KEYS).filter(([k]) => k.startsWith("/calico/bgp/v1/global"));
    expect(await readFile(out, "utf8")).toBe(
      [
        "{",
        ...globals.map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`),
        '  "/calico/zz/B": "upper",',
        '  "/calico/zz/a": "lower",',
        '  "/calico/zz/~": "tilde",',
        '  "/calico/zz/\uFFFD": "replacement",',
        '  "/calico/zz/\u{1F600}": "astral"',
        "}\n",
      ].join("\n"),
    );
    // Unchanged keys, unchanged file: a second snapshot is not a write.
    const again = await runPerch(["snapshot", "--endpoints", etcd.clientUrl, "--prefix", "/calico/zz", "--prefix", "/calico/bgp/v1/global", "-o", out]);
    expect(again.stderr).toMatch(/\(unchanged\)$/);
  });

  it("perch snapshot to stdout, and its errors", async () => {
    const r = await runPerch(["snapshot", "--endpoints", etcd.clientUrl, "--prefix", "/calico/zz/a"]);
    // (execa strips the final newline.)
    expect(r.stdout).toBe('{\n  "/calico/zz/a": "lower"\n}');
    const empty = await runPerch(["snapshot", "--endpoints", etcd.clientUrl, "--prefix", "/nothing"]);
    expect(empty.stdout).toBe("{}");
    const noPrefix = await runPerch(["snapshot", "--endpoints", etcd.clientUrl]);
    expect(noPrefix.exitCode).toBe(2);
    expect(noPrefix.stderr).toBe("perch snapshot: snapshot needs at least one --prefix (or --calico-v3)");
    const noDir = await runPerch(["snapshot", "--endpoints", etcd.clientUrl, "--prefix", "/calico", "-o", path.join(work, "no", "such", "dir.json")]);
    expect(noDir.exitCode).toBe(1);
    expect(noDir.stderr).toBe(`perch snapshot: cannot write ${path.join(work, "no", "such", "dir.json")}: directory ${path.join(work, "no", "such")} does not exist`);
  });

  it("confd's command line renders the same files as perch's own", async () => {
    const native = path.join(work, "native");
    const confdStyle = path.join(work, "confd-style");
    const invokedAsConfd = path.join(work, "as-confd");
    const nativeRun = await runPerch(["render", "--confdir", EXAMPLES, "--endpoints", etcd.clientUrl, "--node-name", "node-a", "--root", native]);
    expect(nativeRun.exitCode).toBe(0);
    // confd has no --root: PERCH_ROOT places the absolute dests under a test directory.
    const confdArgs = ["-onetime", "-backend", "etcdv3", "-node", etcd.clientUrl, "-confdir", EXAMPLES, "-log-level", "warning"];
    const confdRun = await runPerch(confdArgs, { env: { NODENAME: "node-a", PERCH_ROOT: confdStyle } });
    expect(confdRun.stderr).toBe("");
    expect(confdRun.exitCode).toBe(0);
    expect(confdRun.stdout.match(/^written\s/gm)).toHaveLength(6);
    const link = path.join(work, "confd");
    await symlink(PERCH, link);
    const asConfd = await execa("node", [link, ...confdArgs.slice(0, 5), "-node", "127.0.0.1:1", `--confdir=${EXAMPLES}`], {
      reject: false,
      env: { NODENAME: "node-a", PERCH_ROOT: invokedAsConfd, ETCD_ENDPOINTS: "" },
    });
    // Several -node flags: every endpoint is used, so the unreachable one fails over to etcd.
    expect(asConfd.stderr).toBe("");
    expect(asConfd.exitCode).toBe(0);
    const files = await tree(native);
    expect(Object.keys(files)).toHaveLength(6);
    expect(await tree(confdStyle)).toEqual(files);
    expect(await tree(invokedAsConfd)).toEqual(files);
  });

  it("a snapshot renders what the live cluster renders, and gates CI on a committed render", async () => {
    const snapshot = path.join(work, "ci-snapshot.json");
    expect((await runPerch(["snapshot", "--endpoints", etcd.clientUrl, "--prefix", "/calico", "-o", snapshot])).exitCode).toBe(0);
    const committed = path.join(work, "committed");
    const live = path.join(work, "live");
    const fromFile = ["render", "--confdir", EXAMPLES, "--keys", snapshot, "--node-name", "node-a"];
    expect((await runPerch([...fromFile, "--root", committed])).exitCode).toBe(0);
    expect((await runPerch(["render", "--confdir", EXAMPLES, "--endpoints", etcd.clientUrl, "--node-name", "node-a", "--root", live])).exitCode).toBe(0);
    const rendered = await tree(committed);
    expect(await tree(live)).toEqual(rendered);

    const gate = [...fromFile, "--root", committed, "--diff", "--exit-code", "--noop"];
    const clean = await runPerch(gate);
    expect(clean.exitCode).toBe(0);
    expect(clean.stdout.match(/^unchanged\s/gm)).toHaveLength(6);

    const keys = JSON.parse(await readFile(snapshot, "utf8")) as Record<string, string>;
    await writeFile(snapshot, JSON.stringify({ ...keys, "/calico/bgp/v1/global/as_num": "64999" }));
    const dirty = await runPerch(gate);
    expect(dirty.exitCode).toBe(3);
    const birdCfg = path.join(committed, "etc/calico/confd/config/bird.cfg");
    expect(dirty.stdout).toContain(`would-write   bird             ${path.relative(REPO, birdCfg).startsWith("..") ? birdCfg : path.relative(REPO, birdCfg)}\n`);
    expect(dirty.stdout).toContain(`--- ${birdCfg}\n+++ ${birdCfg}\n`);
    expect(dirty.stdout).toContain("\n-  local as 64512;\n+  local as 64999;\n");
    expect(dirty.stdout).not.toContain("\x1b[");
    // The global AS number is in bird.cfg and bird6.cfg; the four other files stay.
    expect(dirty.stdout.match(/^would-write\s/gm)).toHaveLength(2);
    expect(dirty.stdout.match(/^unchanged\s/gm)).toHaveLength(4);
    expect(await tree(committed)).toEqual(rendered);
  });
});
