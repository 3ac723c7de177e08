/** The step of a write that failed, so that an error says more than the errno. */

class StepError extends Error {
  constructor(
    readonly step: string,
    readonly original: unknown,
  ) {
    super(step);
  }
}

/** Runs `action`, synchronous or not, naming `name` as the step of whatever it throws or rejects with. */
export function step<T>(name: string, action: () => T): T {
  const named = (err: unknown): StepError => (err instanceof StepError ? err : new StepError(name, err));
  try {
    const result = action();
    return (result instanceof Promise ? result.catch((err: unknown) => Promise.reject(named(err))) : result) as T;
  } catch (err) {
    throw named(err);
  }
}

/** A failed in-place write, with the state it left the destination in. */
export class InPlaceError extends Error {
  constructor(
    readonly failure: unknown,
    readonly state: string,
  ) {
    super(state);
  }
}

/** Throws `err` as the failure of step `name`. */
export function failedStep(name: string, err: unknown): never {
  throw new StepError(name, err);
}

export function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : undefined;
}

/** "EACCES: permission denied" — Node's message without its trailing ", open '<path>'" (or bare ", write"). */
export function describeErrno(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = errnoCode(err);
  if (code === undefined) return message;
  const description = message.startsWith(`${code}: `) ? message.slice(code.length + 2).replace(/, \w+(?: '.*)?$/s, "") : message;
  return `${code}: ${description}`;
}

/** "EACCES: permission denied (creating the stage file)": the errno, and the step when one was named. */
export function describeStepFailure(err: unknown): string {
  if (err instanceof InPlaceError) return `${describeStepFailure(err.failure)}; ${err.state}`;
  return err instanceof StepError ? `${describeErrno(err.original)} (${err.step})` : describeErrno(err);
}
