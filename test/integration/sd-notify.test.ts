// systemd's notify protocol as perch watch speaks it, against a unix datagram socket this test listens
// on (python3: Node has none): READY=1 only once the first pass has written its files, WATCHDOG=1
// every half WATCHDOG_USEC, STATUS= while the store is unreachable and after a refused SIGHUP,
// STOPPING=1 on SIGTERM; and the reload_cmd does not inherit the socket.
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resourceToml, useConfdir } from "../helpers/confdir.js";
import { freePort, startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";

/** Prints each datagram as a JSON line, with whether `watched` existed when it arrived. */
const LISTENER = `
import json, os, socket, sys, time
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
print(json.dumps({"listening": True}), flush=True)
while True:
    # recv drops the descriptor systemd-notify's barrier sends, which releases it.
    data = sock.recv(65536)
    print(json.dumps({"at": time.monotonic(), "message": data.decode(), "watchedExists": os.path.exists(sys.argv[2])}), flush=True)
`;

interface Datagram {
  at: number;
  message: string;
  watchedExists: boolean;
}

interface NotifySocket {
  path: string;
  received: Datagram[];
  close(): void;
}

async function listen(socketPath: string, watched: string): Promise<NotifySocket> {
  const child: ChildProcess = spawn("/usr/bin/python3", ["-c", LISTENER, socketPath, watched], { stdio: ["ignore", "pipe", "inherit"] });
  const received: Datagram[] = [];
  let listening = false;
  let buffer = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = JSON.parse(buffer.slice(0, nl)) as Datagram & { listening?: boolean };
      buffer = buffer.slice(nl + 1);
      if (line.listening) listening = true;
      else received.push(line);
    }
  });
  await waitFor("the notify socket's listener", () => (listening ? true : undefined), 10_000);
  return { path: socketPath, received, close: () => child.kill("SIGKILL") };
}

const messages = (socket: NotifySocket, field: string): Datagram[] => socket.received.filter((d) => d.message.split("\n").includes(field));

describe("perch watch under systemd (Type=notify)", () => {
  const c = useConfdir();
  let socket: NotifySocket | undefined;
  let w: WatchProcess | undefined;
  afterEach(async () => {
    await w?.stop();
    w = undefined;
    socket?.close();
    socket = undefined;
  });

  it("says READY=1 after the first pass wrote its files, pings the watchdog, says STOPPING=1 on SIGTERM", async () => {
    const dest = path.join(c.out, "bird.cfg");
    await c.writeTemplate("bird.hbs", 'router id {{getv "/id"}};\n');
    // A slow check: READY=1 sent before the pass ended would arrive before the file exists.
    await c.writeResource("bird", resourceToml("bird.hbs", dest, ["/id"], `check_cmd = "sleep 0.5"\nreload_cmd = 'echo "[$NOTIFY_SOCKET]" > ${path.join(c.dir, "reload-saw")}'`));
    await c.writeKeys({ "/id": "10.0.0.1" });
    socket = await listen(path.join(c.dir, "notify.sock"), dest);
    w = await startWatch(["--confdir", c.dir, "--keys", c.keysFile], { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: "200000" });

    const ready = await waitFor("READY=1", () => messages(socket as NotifySocket, "READY=1")[0]);
    expect(ready.watchedExists).toBe(true);
    expect(ready.message).toBe("READY=1\nSTATUS=first pass done: ready");
    expect(await readFile(dest, "utf8")).toBe("router id 10.0.0.1;\n");
    expect(await readFile(path.join(c.dir, "reload-saw"), "utf8")).toBe("[]\n");

    // Every 100 ms (half of 200 ms): at least 4 within a second, even on a busy machine.
    const pingsBefore = messages(socket, "WATCHDOG=1").length;
    await new Promise((r) => setTimeout(r, 1_000));
    const pings = messages(socket, "WATCHDOG=1");
    expect(pings.length - pingsBefore).toBeGreaterThanOrEqual(4);
    expect(pings.every((d) => d.message === "WATCHDOG=1")).toBe(true);

    // SIGHUP: systemctl status says whether the new conf.d was taken.
    await c.writeResource("broken", "[template]\nsrc = 1\n");
    w.signal("SIGHUP");
    // (The file backend also reloads on the edit itself: that one says "(edit)".)
    await waitFor("STATUS= for the refused reload", () => messages(socket as NotifySocket, "STATUS=new configuration refused (SIGHUP); the running set is kept")[0]);

    expect(await w.stop()).toBe(0);
    w = undefined;
    const stopping = await waitFor("STOPPING=1", () => messages(socket as NotifySocket, "STOPPING=1")[0], 5_000);
    expect(stopping.message).toBe("STOPPING=1\nSTATUS=stopping (SIGTERM)");
    // READY=1 once, and nothing after STOPPING=1 but systemd-notify's own barrier.
    expect(messages(socket, "READY=1")).toHaveLength(1);
    expect(socket.received.filter((d) => d.at > stopping.at && d.message !== "BARRIER=1")).toEqual([]);
  });

  it("is not ready while the store is unreachable, says why, and pings no watchdog meant for another process", async () => {
    await c.writeTemplate("t.hbs", "x\n");
    await c.writeResource("t", resourceToml("t.hbs", path.join(c.out, "t"), ["/k"]));
    socket = await listen(path.join(c.dir, "notify.sock"), path.join(c.out, "t"));
    const port = await freePort();
    w = await startWatch(["--confdir", c.dir, "--endpoints", `http://127.0.0.1:${port}`], { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: "200000", WATCHDOG_PID: "1" });

    const waiting = await waitFor("a STATUS= line", () => socket?.received[0]);
    expect(waiting.message).toBe(`STATUS=waiting for the store: cannot connect to etcd at http://127.0.0.1:${port}: connection refused (is etcd running and listening there?)`);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(messages(socket, "READY=1")).toEqual([]);
    expect(messages(socket, "WATCHDOG=1")).toEqual([]);

    expect(await w.stop()).toBe(0);
    w = undefined;
    await waitFor("STOPPING=1", () => messages(socket as NotifySocket, "STOPPING=1")[0], 5_000);
  });
});
