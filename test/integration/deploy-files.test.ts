// The files in deploy/ that no test here can run (a Dockerfile without a docker daemon, a DaemonSet
// without a cluster, a unit without systemd as PID 1), checked as far as they can be: each parses
// (systemd-analyze verify, python3's YAML), each perch command line in them is one perch takes (the
// real argv and settings parsers), and they agree with one another and with the shipped conf.d.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseArgv } from "../../src/cli/argv.js";
import { isConfdInvocation, translateConfd } from "../../src/cli/confd-compat.js";
import { resolveConfig, type Config } from "../../src/cli/settings.js";
import { parseResource, type ResourceDefinition } from "../../src/resource/parse-resource.js";
import { PERCH, REPO } from "../helpers/confdir.js";
import { useTempDir } from "../helpers/temp-dir.js";

const run = promisify(execFile);
const deploy = (file: string) => readFile(path.join(REPO, "deploy", file), "utf8");

/** A perch command line (without the program) as perch would take it, given `env`: throws what perch would say. */
function perchConfig(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  if (isConfdInvocation(argv, "perch")) {
    const { command, flags, below } = translateConfd(argv, env, "/nonexistent/confd.toml");
    return resolveConfig(command, flags, env, below);
  }
  const { command, flags } = parseArgv(argv);
  if (command === undefined) throw new Error(`no command in ${argv.join(" ")}`);
  return resolveConfig(command, flags, env);
}

/** `Key=value` lines of a unit file; `#Key=` lines too when `commented`. */
function unitSettings(text: string, commented = false): Array<[string, string]> {
  const pattern = commented ? /^#?([A-Z][A-Za-z]+)=(.*)$/gm : /^([A-Z][A-Za-z]+)=(.*)$/gm;
  return [...text.matchAll(pattern)].map((m) => [m[1] as string, m[2] as string]);
}

describe("deploy/systemd/perch.service", () => {
  const dir = useTempDir("perch-unit-");

  it("passes systemd-analyze verify without a word (unknown keys would be named)", async () => {
    const unit = path.join(dir.path, "perch.service");
    // verify checks that ExecStart's program exists: the built one stands in for /usr/local/bin/perch.
    await writeFile(unit, (await deploy("systemd/perch.service")).replaceAll("/usr/local/bin/perch", PERCH));
    const r = await run("systemd-analyze", ["verify", unit]);
    expect(r.stderr).toBe("");
  });

  it("is a notify service with a watchdog, a HUP reload and SIGTERM to perch alone", async () => {
    const settings = Object.fromEntries(unitSettings(await deploy("systemd/perch.service")));
    expect(settings).toMatchObject({ Type: "notify", NotifyAccess: "all", WatchdogSec: "30s", ExecReload: "/bin/kill -HUP $MAINPID", KillMode: "mixed", Restart: "always" });
  });

  it("runs perch watch, and its confd-form alternative is a command line perch takes too", async () => {
    const starts = unitSettings(await deploy("systemd/perch.service"), true).filter(([key]) => key === "ExecStart");
    expect(starts).toHaveLength(2);
    for (const [, line] of starts) {
      const [program, ...argv] = line.split(/\s+/);
      expect(program).toBe("/usr/local/bin/perch");
      expect(perchConfig(argv).command).toBe("watch");
    }
  });
});

describe("deploy/docker/Dockerfile", () => {
  it("runs perch under tini, with BIRD 1.6 from bookworm, serving the port it exposes", async () => {
    const text = await deploy("docker/Dockerfile");
    expect(text).toMatch(/^FROM node:20-bookworm-slim$/m);
    expect(text).toMatch(/apt-get install -y --no-install-recommends bird tini\b/);
    const json = (instruction: string) => JSON.parse(new RegExp(`^${instruction} (\\[.*\\])$`, "m").exec(text)?.[1] ?? "null") as string[];
    expect(json("ENTRYPOINT")).toEqual(["/usr/bin/tini", "--", "perch"]);
    const confdir = /^ENV PERCH_CONFDIR=(\S+)$/m.exec(text)?.[1];
    const config = perchConfig(json("CMD"), { PERCH_CONFDIR: confdir });
    expect(config).toMatchObject({ command: "watch", confdir: "/etc/perch", listen: { host: "0.0.0.0", port: Number(/^EXPOSE (\d+)$/m.exec(text)?.[1]) } });
  });
});

interface Container {
  name: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  ports?: Array<{ containerPort: number }>;
  readinessProbe?: { httpGet: { path: string; port: number } };
  livenessProbe?: { httpGet: { path: string; port: number } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

interface Manifest {
  kind: string;
  data?: Record<string, string>;
  spec?: { template: { spec: { containers: Container[] } } };
}

describe("deploy/kubernetes/daemonset.yaml", () => {
  async function manifests(): Promise<Manifest[]> {
    const toJson = "import json, sys, yaml; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)";
    const { stdout } = await run("/usr/bin/python3", ["-c", toJson, path.join(REPO, "deploy/kubernetes/daemonset.yaml")]);
    return JSON.parse(stdout) as Manifest[];
  }

  it("is a ConfigMap and a DaemonSet whose perch takes its arguments and environment, probed where it listens", async () => {
    const [configMap, daemonSet] = await manifests();
    expect([configMap?.kind, daemonSet?.kind]).toEqual(["ConfigMap", "DaemonSet"]);
    const perch = daemonSet?.spec?.template.spec.containers.find((c) => c.name === "perch") as Container;
    // A value from the downward API (the node name) stands in as a literal.
    const env = Object.fromEntries((perch.env ?? []).map((e) => [e.name, e.value ?? "node-a"]));
    // The image's ENV (deploy/docker/Dockerfile) is under the container's.
    const config = perchConfig(perch.args ?? [], { PERCH_CONFDIR: "/etc/perch", ...env });
    expect(config).toMatchObject({ command: "watch", calicoV3: true, caFile: "/etc/perch/etcd/ca.crt", listen: { port: 9099 } });
    expect(config.endpoints).toHaveLength(3);
    expect(perch.ports?.map((p) => p.containerPort)).toEqual([9099]);
    expect(perch.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: 9099 });
    expect(perch.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: 9099 });
    expect(perch.volumeMounts?.find((m) => m.name === "confd")?.mountPath).toBe(`${config.confdir}/conf.d`);
  });

  it("has the shipped IPv4 resources, reloading BIRD through its socket instead of runit", async () => {
    const [configMap] = await manifests();
    const definition = (file: string, text: string): Omit<ResourceDefinition, "file" | "lines"> => {
      const { resource, errors } = parseResource(file, path.basename(file, ".toml"), text);
      expect(errors.map(String)).toEqual([]);
      const { file: _file, lines: _lines, ...rest } = resource as ResourceDefinition;
      return rest;
    };
    const data = configMap?.data ?? {};
    expect(Object.keys(data)).toEqual(["bird.toml", "bird_ipam.toml", "bird_aggr.toml"]);
    for (const [name, text] of Object.entries(data)) {
      const shipped = definition(name, await readFile(path.join(REPO, "conf.d", name), "utf8"));
      expect(definition(name, text)).toEqual({ ...shipped, reloadCmd: "birdcl -s /var/run/calico/bird.ctl configure" });
    }
  });
});

describe("deploy/runit/perch", () => {
  it("run and log/run are shell scripts that parse, and run's perch command line is one perch takes", async () => {
    for (const script of ["runit/perch/run", "runit/perch/log/run"]) await run("sh", ["-n", path.join(REPO, "deploy", script)]);
    const text = await deploy("runit/perch/run");
    const argv = /^exec perch (.*)$/m.exec(text)?.[1]?.split(" ") ?? [];
    expect(perchConfig(argv, { PERCH_CALICO_V3: "true", PERCH_LISTEN: "127.0.0.1:9101" })).toMatchObject({ command: "watch", calicoV3: true });
  });
});

describe("docs/deploy.md", () => {
  it("points at every file in deploy/ and keeps no copy of one", async () => {
    const doc = await readFile(path.join(REPO, "docs/deploy.md"), "utf8");
    for (const file of ["runit/perch/run", "runit/perch/log/run", "systemd/perch.service", "docker/Dockerfile", "kubernetes/daemonset.yaml"]) {
      expect(doc).toContain(`(../deploy/${file})`);
    }
    expect(doc).not.toMatch(/^```(ini|dockerfile|yaml)$/m);
  });
});
