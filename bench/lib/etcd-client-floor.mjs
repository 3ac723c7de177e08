// The floor under any Node daemon that watches etcd with the client perch's daemon uses: run by the
// footprint suite as `node bench/lib/etcd-client-floor.mjs <etcd URL> <prefix>`, it loads etcd3
// (grpc-js, protobufjs with etcd's .proto files), makes a client, opens one watch on `prefix`,
// prints "watching" and waits to be killed. Nothing of perch's is loaded.
import { createRequire } from "node:module";
import path from "node:path";

const [url, prefix] = process.argv.slice(2);
// etcd3 as the daemon resolves it: the repository's node_modules.
const { Etcd3 } = createRequire(path.join(import.meta.dirname, "..", "..", "package.json"))("etcd3");
const client = new Etcd3({ hosts: [url] });
await client.watch().prefix(prefix).create();
process.stdout.write("watching\n");
