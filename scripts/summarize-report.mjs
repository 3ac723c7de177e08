// Print CI's plain summary line from vitest's JSON report: "N passed, N failed[, N skipped]".
// A run that never reached vitest (install, lint or type-check failed) counts as one failure.
import { readFileSync } from "node:fs";

const [file, status] = process.argv.slice(2);
let passed = 0;
let failed;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if (failed === 0 && Number(status) !== 0) failed = 1;
} catch {
  failed = Number(status) === 0 ? 0 : 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
