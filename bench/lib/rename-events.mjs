// The worker behind watchDir (changes.mjs): it watches one directory and does nothing else, so each
// event is stamped when inotify delivers it, however busy the bench's main thread is (reading a
// 1.3 MB bird.cfg, parsing the daemon's log). Posts { file, hr } per event (hr: process.hrtime.bigint(),
// one clock for every thread); answers "flush" once the events stamped before it are posted. The
// bench ends it with terminate().
import { watch } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

watch(workerData.dir, (_type, file) => parentPort.postMessage({ file, hr: process.hrtime.bigint() }));
parentPort.on("message", (message) => {
  if (message === "flush") parentPort.postMessage("flushed");
});
parentPort.postMessage("watching");
