// The PerchError a call throws, for tests that assert its message and context.
import { PerchError } from "../../src/errors.js";

export function thrownPerchError(run: () => unknown): PerchError {
  try {
    run();
  } catch (err) {
    if (err instanceof PerchError) return err;
    throw err;
  }
  throw new Error("expected a PerchError, nothing was thrown");
}
