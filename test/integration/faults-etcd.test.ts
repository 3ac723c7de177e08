// etcd faults a user meets, each through `perch render` (exit 1 and one line that says what is
// wrong) and `perch watch` (keeps retrying, not ready, the same words logged): endpoints that are no
// URL, do not resolve, refuse, are not etcd, or speak TLS to a plain client; a server that accepts
// TCP and never answers (dial timeout) or stops answering after the first request (request
// timeout); TLS with a wrong CA, an expired or a foreign client certificate; a wrong password. The
// password appears in no log line and no metric. (etcd-store.test.ts covers the store itself.)
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeConfdir, resourceToml, runPerch, type TestConfdir } from "../helpers/confdir.js";
import { generateTlsFiles, startEtcd, type EtcdServer, type TlsFiles } from "../helpers/etcd-server.js";
import { startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";

const run = promisify(execFile);
const PASSWORD = "pa55-Never-Log-Me-7f3k";
/** The resource reads this prefix; the freezing proxy recognises it in a range request. */
const MARKER = "/perch-freeze-marker";

let c: TestConfdir;
let tlsEtcd: EtcdServer;
let authEtcd: EtcdServer;
let foreign: TlsFiles;
let expired: { cert: string; key: string };
const servers: Array<Server | HttpServer> = [];

function listen<T extends Server | HttpServer>(server: T): Promise<string> {
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(`127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`);
    });
  });
}

/** A client certificate signed by `ca` that expired in 2020 (`openssl ca` takes explicit dates). */
async function expiredCertificate(caDir: string): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "perch-faults-expired-"));
  await writeFile(path.join(dir, "ca.cnf"), ["[ca]", "default_ca = test", "[test]", "database = index.txt", "new_certs_dir = .", "serial = serial", "default_md = sha256", "policy = any", "x509_extensions = client", "[any]", "commonName = supplied", "[client]", "extendedKeyUsage = clientAuth", ""].join("\n"));
  await writeFile(path.join(dir, "index.txt"), "");
  await writeFile(path.join(dir, "serial"), "1000\n");
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", ["req", "-new", ...ec, "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=perch-expired-client"], { cwd: dir });
  await run("openssl", ["ca", "-batch", "-config", "ca.cnf", "-cert", path.join(caDir, "ca.crt"), "-keyfile", path.join(caDir, "ca.key"), "-in", "expired.csr", "-out", "expired.crt", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-notext"], { cwd: dir });
  return { cert: path.join(dir, "expired.crt"), key: path.join(dir, "expired.key") };
}

/**
 * A proxy to `target` that forwards until a client sends a request naming MARKER, then goes
 * silent on that connection (both ways, the socket left open): a server that answered the dial
 * probe and then hangs, so only the request timeout can end the wait (a one-shot's direct
 * listing gives up and falls back to the etcd3 client, which then times out too).
 */
async function freezingProxy(target: string): Promise<string> {
  const [host, port] = target.split(":");
  const server = createServer((client: Socket) => {
    const upstream = connect(Number(port), host);
    let frozen = false;
    client.on("data", (chunk: Buffer) => {
      if (frozen || chunk.includes(MARKER)) frozen = true;
      else upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!frozen) client.write(chunk);
    });
    for (const s of [client, upstream]) s.on("error", () => s.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  return listen(server);
}

beforeAll(async () => {
  c = await makeConfdir();
  await c.writeTemplate("t.hbs", '{{getv "/k" "none"}}\n');
  await c.writeResource("app", resourceToml("t.hbs", path.join(c.out, "app.cfg"), ["/"], `prefix = "${MARKER}"`));
  [tlsEtcd, authEtcd, foreign] = await Promise.all([startEtcd({ tls: true }), startEtcd({ auth: { user: "root", password: PASSWORD } }), generateTlsFiles()]);
  expired = await expiredCertificate(path.dirname(tlsEtcd.caFile as string));
}, 60_000);

afterAll(async () => {
  for (const s of servers) s.close();
  await Promise.all([tlsEtcd?.stop(), authEtcd?.stop()]);
  await rm(path.dirname(expired?.cert ?? "/nonexistent"), { recursive: true, force: true });
  await rm(foreign?.dir ?? "/nonexistent", { recursive: true, force: true });
  await c?.cleanup();
});

interface Case {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** What `perch render` prints after "perch render: ", and `perch watch` logs as the error. */
  message: string | RegExp;
}

/** Every fault, with the endpoints known only once the servers run. */
async function cases(): Promise<Case[]> {
  const refused = await listen(createServer()).then(async (address) => {
    const s = servers.pop();
    await new Promise((r) => s?.close(r));
    return address;
  });
  const silent = await listen(createServer(() => undefined));
  const notEtcd = await listen(createHttpServer((_req, res) => res.end("hello")));
  const frozen = await freezingProxy(authEtcd.endpoint);
  const tls = tlsEtcd.clientUrl;
  const tlsHost = tlsEtcd.endpoint;
  const ca = ["--ca-file", tlsEtcd.caFile as string];
  const cert = ["--cert-file", tlsEtcd.certFile as string, "--key-file", tlsEtcd.keyFile as string];
  const exact = (s: string) => s;
  return [
    {
      name: "a host name that does not resolve",
      args: ["--endpoints", "http://etcd.perch-test.invalid:2379"],
      // (On a machine without any resolver the lookup may instead hang until the dial timeout.)
      message: /^(cannot connect to etcd at http:\/\/etcd\.perch-test\.invalid:2379: 14 UNAVAILABLE: Name resolution failed for target dns:etcd\.perch-test\.invalid:2379|etcd at http:\/\/etcd\.perch-test\.invalid:2379 did not answer within the dial timeout of 5000 ms)$/,
    },
    {
      name: "a refused connection",
      args: ["--endpoints", `http://${refused}`],
      message: exact(`cannot connect to etcd at http://${refused}: connection refused (is etcd running and listening there?)`),
    },
    {
      name: "a server that is not etcd",
      args: ["--endpoints", `http://${notEtcd}`],
      message: exact(`cannot connect to etcd at http://${notEtcd}: 14 UNAVAILABLE: No connection established. Last error: Protocol error (is it etcd's client URL?)`),
    },
    {
      name: "http:// for a TLS server",
      args: ["--endpoints", tls.replace("https:", "http:")],
      message: exact(`cannot connect to etcd at http://${tlsHost}: ${tlsHost} speaks TLS: use https://${tlsHost} and give etcd's CA (ETCD_CA_CERT_FILE)`),
    },
    {
      name: "a server that accepts TCP and never answers",
      args: ["--endpoints", `http://${silent}`],
      message: exact(`etcd at http://${silent} did not answer within the dial timeout of 5000 ms`),
    },
    {
      name: "a server that stops answering after the dial",
      args: ["--endpoints", `http://${frozen}`, "--username", "root", "--password", PASSWORD],
      message: new RegExp(`^etcd at http://${frozen.replaceAll(".", "\\.")}: request timed out \\(4 DEADLINE_EXCEEDED: .*\\)$`),
    },
    {
      name: "a CA that did not sign the server's certificate",
      args: ["--endpoints", tls, "--ca-file", foreign.caFile, ...cert],
      message: exact(`cannot connect to etcd at ${tls}: TLS handshake with ${tlsHost} failed: the server's certificate is not trusted (unable to verify the first certificate): check the CA file (ETCD_CA_CERT_FILE)`),
    },
    {
      name: "an expired client certificate",
      args: ["--endpoints", tls, ...ca, "--cert-file", expired.cert, "--key-file", expired.key],
      message: exact(
        `cannot connect to etcd at ${tls}: TLS handshake with ${tlsHost} failed: the server rejected the client certificate (ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE): it expired on Jan  2 00:00:00 2020 GMT: check ETCD_CERT_FILE and ETCD_KEY_FILE`,
      ),
    },
    {
      name: "a client certificate from another CA",
      args: ["--endpoints", tls, ...ca, "--cert-file", foreign.clientCertFile, "--key-file", foreign.clientKeyFile],
      message: exact(
        `cannot connect to etcd at ${tls}: TLS handshake with ${tlsHost} failed: the server rejected the client certificate (ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE): it was not issued by the CA in ETCD_CA_CERT_FILE: check ETCD_CERT_FILE and ETCD_KEY_FILE`,
      ),
    },
    {
      name: "a wrong password (flag)",
      args: ["--endpoints", authEtcd.clientUrl, "--username", "root", "--password", `${PASSWORD}-typo`],
      message: exact(`etcd at ${authEtcd.clientUrl}: authentication failed for user "root": wrong user name or password`),
    },
    {
      name: "a wrong password (ETCD_PASSWORD)",
      args: ["--endpoints", authEtcd.clientUrl],
      env: { ETCD_USERNAME: "root", ETCD_PASSWORD: `${PASSWORD}-typo` },
      message: exact(`etcd at ${authEtcd.clientUrl}: authentication failed for user "root": wrong user name or password`),
    },
  ];
}

function matches(text: unknown, message: string | RegExp): boolean {
  return typeof text === "string" && (typeof message === "string" ? text === message : message.test(text));
}

describe("etcd faults", () => {
  let all: Case[];
  beforeAll(async () => {
    all = await cases();
  });

  it("perch render exits 1 with one line that says what is wrong; perch watch keeps retrying, not ready, and logs it", async () => {
    // All at once: the request timeout alone takes 30 s (etcd3 tries a timed-out request three times).
    const watches: WatchProcess[] = [];
    try {
      for (const k of all) watches.push(await startWatch(["--confdir", c.dir, ...k.args], k.env));
      const renders = Promise.all(all.map((k) => runPerch(["render", "--confdir", c.dir, "--log-level", "debug", ...k.args], { env: k.env })));

      await Promise.all(
        all.map(async (k, i) => {
          const w = watches[i] as WatchProcess;
          const isFailure = (e: Record<string, unknown>) => e.event === "store" && e.state === "unavailable" && matches(e.err, k.message);
          // Retrying: a second failure, except where one attempt takes the whole request timeout.
          const wanted = k.name.includes("stops answering") ? 1 : 2;
          await waitFor(`${k.name}: ${wanted} failed attempt(s) logged`, () => (w.events.filter(isFailure).length >= wanted ? true : undefined), 50_000, 50);
          expect(await w.readyz(), k.name).toBe(503);
          expect(await w.metric("perch_store_connected"), k.name).toBe(0);
          const metrics = await (await fetch(`http://127.0.0.1:${w.port}/metrics`)).text();
          expect(metrics, k.name).not.toContain(PASSWORD);
          expect(JSON.stringify(w.events), k.name).not.toContain(PASSWORD);
          expect(w.exited, k.name).toBe(false);
        }),
      );

      for (const [i, r] of (await renders).entries()) {
        const k = all[i] as Case;
        const lines = r.stderr.split("\n");
        // The last line is the report; the lines before it are the JSON log (debug level).
        const last = lines.at(-1) ?? "";
        expect({ case: k.name, exitCode: r.exitCode, prefixed: last.startsWith("perch render: "), matches: matches(last.replace(/^perch render: /, ""), k.message), last }).toMatchObject({
          case: k.name,
          exitCode: 1,
          prefixed: true,
          matches: true,
        });
        expect(r.all, k.name).not.toContain(PASSWORD);
      }
    } finally {
      // SIGTERM (not through execa, which SIGKILLs after 5 s): a daemon waiting on a silent server
      // exits 0, but only once the call in flight ends — after the dial timeout (5 s, then the
      // next backoff) or the request timeout (10 s, and etcd3's retry): gRPC does not cancel calls
      // when the client closes.
      const exits = await Promise.all(
        watches.map(async (w) => {
          const t0 = Date.now();
          process.kill(w.proc.pid as number, "SIGTERM");
          const r = await Promise.race([w.proc, new Promise<undefined>((resolve) => setTimeout(resolve, 30_000))]);
          return { exitCode: r?.exitCode, slow: Date.now() - t0 > 25_000 };
        }),
      );
      expect(exits).toEqual(all.map(() => ({ exitCode: 0, slow: false })));
    }
  }, 120_000);

  it("perch watch with a wrong password starts once the password is right, and logs neither", async () => {
    const newPassword = `${PASSWORD}-rotated`;
    const w = await startWatch(["--confdir", c.dir, "--endpoints", authEtcd.clientUrl, "--wait", "10ms:50ms"], { ETCD_USERNAME: "root", ETCD_PASSWORD: newPassword });
    try {
      await w.waitForEvent((e) => e.event === "store" && e.state === "unavailable" && typeof e.err === "string" && e.err.includes("authentication failed"));
      expect(await w.readyz()).toBe(503);
      // The operator rotates the password in etcd to the one perch has.
      await authEtcd.client().put(`${MARKER}/k`).value("after the rotation");
      await authEtcd.client().user("root").setPassword(newPassword);
      await w.waitForFile(path.join(c.out, "app.cfg"), (s) => s === "after the rotation\n", 30_000);
      await waitFor("ready", async () => ((await w.readyz()) === 200 ? true : undefined));
      const metrics = await (await fetch(`http://127.0.0.1:${w.port}/metrics`)).text();
      for (const secret of [PASSWORD, newPassword]) {
        expect(metrics).not.toContain(secret);
        expect(JSON.stringify(w.events)).not.toContain(secret);
      }
    } finally {
      expect(await w.stop()).toBe(0);
      // Back to the password the other tests use (authEtcd's own client authenticates with it).
      const { Etcd3 } = await import("etcd3");
      const admin = new Etcd3({ hosts: [authEtcd.clientUrl], auth: { username: "root", password: newPassword } });
      await admin.user("root").setPassword(PASSWORD).finally(() => admin.close());
    }
  }, 60_000);
});
