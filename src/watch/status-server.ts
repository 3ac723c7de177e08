/** `--listen`: /metrics (Prometheus), /healthz (the process answers), /readyz (synced and connected). */
import { createServer, type Server } from "node:http";
import type { Metrics } from "./metrics.js";

export interface Readiness {
  ready(): { ready: boolean; why: string };
}

export async function startStatusServer(host: string, port: number, metrics: Metrics, readiness: Readiness): Promise<Server> {
  const server = createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (url === "/metrics") {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    } else if (url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (url === "/readyz") {
      const { ready, why } = readiness.ready();
      res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(`${why}\n`);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics, /healthz, /readyz\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
