/**
 * The program the launcher runs (bundled as dist/bundle/perch.cjs): main, then exit as soon as the
 * command is done: a gRPC call abandoned on an unresponsive server must not keep the process alive.
 */
import { quietIpServerNameWarning } from "../store/etcd/index.js";
import { main } from "./main.js";

// Process-wide, so here and once: gRPC's TLS to an IP-address endpoint makes Node warn on every connection.
quietIpServerNameWarning();
void main(process.argv.slice(2), process.argv[1]).then((code) => process.exit(code));
