/**
 * The program the launcher runs (bundled as dist/bundle/perch.cjs): main, then exit as soon as the
 * command is done: a gRPC call abandoned on an unresponsive server must not keep the process alive.
 */
import { main } from "./main.js";

void main(process.argv.slice(2), process.argv[1]).then((code) => process.exit(code));
