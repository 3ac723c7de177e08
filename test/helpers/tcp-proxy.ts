// A loopback TCP proxy a test can cut and restore: cutting destroys every open connection and
// refuses new ones (by closing the listener), as a network partition between perch and etcd would.
import { createServer, connect, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** `127.0.0.1:port` to give perch instead of the target. */
  address: string;
  cut(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, portText] = target.replace(/^https?:\/\//, "").split(":");
  const targetPort = Number(portText);
  const sockets = new Set<Socket>();
  let port = 0;
  let server: Server | undefined;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const srv = createServer((client) => {
        const upstream = connect(targetPort, host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", () => {
        const addr = srv.address();
        if (typeof addr === "object" && addr) port = addr.port;
        server = srv;
        resolve();
      });
    });

  const stopListening = () =>
    new Promise<void>((resolve) => {
      const srv = server;
      server = undefined;
      for (const s of sockets) s.destroy();
      if (srv) srv.close(() => resolve());
      else resolve();
    });

  await listen();
  return {
    address: `127.0.0.1:${port}`,
    cut: () => void stopListening(),
    restore: listen,
    close: stopListening,
  };
}
