/** What a store left out, logged once each; the count of errors decides a one-shot's exit status. */
import type { Logger } from "../log/logger.js";
import type { StoreProblem } from "./types.js";

export function logStoreProblems(logger: Logger, problems: readonly StoreProblem[] | undefined): number {
  let errors = 0;
  for (const problem of problems ?? []) {
    if (problem.severity === "error") errors++;
    logger[problem.severity === "error" ? "error" : "warn"]({ event: "store-problem", key: problem.key }, problem.message);
  }
  return errors;
}
