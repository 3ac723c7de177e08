// deploy/runit/perch under a real runsv (Debian's runit), as calico/node supervises its services: the
// run script starts perch watch against a real etcd and renders; `sv hup` re-reads conf.d; a killed
// perch is started again by runsv, as is one `sv restart` stops; log/run keeps the log with svlogd.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cp, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PERCH, REPO, resourceToml } from "../helpers/confdir.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";
import { onTestProcessExit } from "../helpers/exit-hooks.js";
import { useTempDir } from "../helpers/temp-dir.js";
import { freePort, waitFor } from "../helpers/watch-process.js";

const run = promisify(execFile);
const SERVICE = path.join(REPO, "deploy/runit/perch");

describe("deploy/runit/perch under runsv", () => {
  const work = useTempDir("perch-runit-", { perTest: false });
  let etcd: EtcdServer;
  let runsv: ChildProcess;
  let runsvExited: Promise<void>;
  let service: string;
  let confdir: string;
  let out: string;
  let logDir: string;
  let port: number;

  /** perch's PID as runsv records it, once perch is up. */
  async function perchPid(): Promise<number> {
    const { stdout } = await run("sv", ["status", service]);
    // "run: DIR: (pid N) 5s; run: log: (pid M) 5s": perch's is the first.
    const m = /^run: [^:]+: \(pid (\d+)\)/.exec(stdout);
    if (m === null) throw new Error(`perch is not running: ${stdout}`);
    const pid = Number(m[1]);
    // run execs perch: runsv's child is perch itself (node running the launcher), not a shell.
    expect((await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").slice(1, 3)).toEqual([path.join(work.path, "bin", "perch"), "watch"]);
    return pid;
  }

  const ready = () => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);

  /** Kills what runsv started should the test process die first (runsv's children outlive it). */
  function killSupervisedNow(): void {
    for (const pidFile of ["supervise/pid", "log/supervise/pid"]) {
      try {
        const pid = Number(readFileSync(path.join(service, pidFile), "utf8"));
        if (pid > 0) process.kill(pid, "SIGKILL");
      } catch {
        // Not started, or gone already.
      }
    }
    runsv?.kill("SIGKILL");
  }

  /** A SIGKILLed test worker runs no exit hook: a shell outliving it stops runsv and what runsv started. */
  function startWatchdog(runsvPid: number): void {
    const script = [
      'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done',
      'kill -0 "$1" 2>/dev/null && exit 0',
      'kill -9 "$2" $(cat "$3/supervise/pid" "$3/log/supervise/pid" 2>/dev/null) 2>/dev/null',
    ].join("\n");
    spawn("/bin/sh", ["-c", script, "perch-runsv-watchdog", String(process.pid), String(runsvPid), service], { detached: true, stdio: "ignore" }).unref();
  }

  beforeAll(async () => {
    etcd = await startEtcd();
    await etcd.client().put("/perch-runit/as_num").value("64512");
    confdir = path.join(work.path, "confdir");
    out = path.join(work.path, "out");
    logDir = path.join(work.path, "log");
    for (const dir of [path.join(confdir, "conf.d"), path.join(confdir, "templates"), out]) await mkdir(dir, { recursive: true });
    await writeResource("as", "as.cfg", "as {{getv \"/as_num\"}}\n");
    // The service directory as an operator installs it: a copy (runsv writes supervise/ beside run).
    service = path.join(work.path, "service", "perch");
    await cp(SERVICE, service, { recursive: true });
    // `perch` on PATH, as npm install -g puts it.
    const bin = path.join(work.path, "bin");
    await mkdir(bin);
    await symlink(PERCH, path.join(bin, "perch"));
    port = await freePort();
    onTestProcessExit(killSupervisedNow);
    runsv = spawn("runsv", [service], {
      stdio: "ignore",
      env: {
        PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
        ETCD_ENDPOINTS: etcd.clientUrl,
        NODENAME: "node-a",
        PERCH_CONFDIR: confdir,
        // The test's keys are plain v1 keys, not Calico's v3 datastore.
        PERCH_CALICO_V3: "false",
        PERCH_LISTEN: `127.0.0.1:${port}`,
        PERCH_LOG_DIR: logDir,
      },
    });
    runsvExited = new Promise((resolve) => runsv.once("exit", () => resolve()));
    if (runsv.pid !== undefined) startWatchdog(runsv.pid);
  });

  afterAll(async () => {
    // sv exit: stop perch and its logger, then runsv exits.
    await run("sv", ["exit", service]).catch(() => undefined);
    await Promise.race([runsvExited, new Promise((r) => setTimeout(r, 10_000))]);
    killSupervisedNow();
    await etcd?.stop();
  });

  async function writeResource(name: string, dest: string, template: string): Promise<void> {
    await writeFile(path.join(confdir, "templates", `${name}.hbs`), template);
    await writeFile(path.join(confdir, "conf.d", `${name}.toml`), resourceToml(`${name}.hbs`, path.join(out, dest), ["/"], 'prefix = "/perch-runit"'));
  }

  const waitForContent = (file: string, content: string) =>
    waitFor(`${file} to read ${JSON.stringify(content)}`, async () => ((await readFile(file, "utf8").catch(() => undefined)) === content ? true : undefined), 20_000);

  it("starts perch watch, which renders from etcd and logs through svlogd", async () => {
    await waitForContent(path.join(out, "as.cfg"), "as 64512\n");
    await waitFor("/readyz", async () => ((await ready()) ? true : undefined), 20_000);
    await perchPid();
    const logged = await waitFor("perch's start in svlogd's current", async () => {
      const text = await readFile(path.join(logDir, "current"), "utf8").catch(() => "");
      return text.includes('"event":"start"') ? text : undefined;
    });
    // The daemon's log is one JSON object per line.
    for (const line of logged.trim().split("\n")) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it("sv hup: perch re-reads conf.d and renders a resource added since", async () => {
    const pid = await perchPid();
    await writeResource("mesh", "mesh.cfg", "mesh for {{getv \"/as_num\"}}\n");
    await run("sv", ["hup", service]);
    await waitForContent(path.join(out, "mesh.cfg"), "mesh for 64512\n");
    expect(await perchPid()).toBe(pid);
  });

  it("a killed perch is started again by runsv, and renders what changed meanwhile", async () => {
    const pid = await perchPid();
    process.kill(pid, "SIGKILL");
    await etcd.client().put("/perch-runit/as_num").value("64513");
    const restarted = await waitFor("runsv to start perch again", async () => {
      const now = await perchPid().catch(() => undefined);
      return now !== undefined && now !== pid ? now : undefined;
    }, 20_000);
    expect(restarted).not.toBe(pid);
    await waitForContent(path.join(out, "as.cfg"), "as 64513\n");
  });

  it("sv restart: perch stops on SIGTERM after its pass and runsv starts it again", async () => {
    const pid = await perchPid();
    await run("sv", ["restart", service]);
    const restarted = await waitFor("a new perch", async () => {
      const now = await perchPid().catch(() => undefined);
      return now !== undefined && now !== pid ? now : undefined;
    }, 20_000);
    expect(restarted).not.toBe(pid);
    await waitFor("/readyz after the restart", async () => ((await ready()) ? true : undefined), 20_000);
    const log = await readFile(path.join(logDir, "current"), "utf8");
    expect(log).toMatch(/"event":"signal","signal":"SIGTERM"[\s\S]*"event":"stop"/);
  });
});
