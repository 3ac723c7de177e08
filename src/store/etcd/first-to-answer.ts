/**
 * Which of several endpoints to use: the first to answer, asked in order and a little apart
 * (Happy Eyeballs, RFC 8305). Shared by the etcd3 store and the one-shot lister.
 */

/** How long an endpoint has to answer before the next one is asked beside it. */
const STAGGER_MS = 250;

export interface Answer<T> {
  index: number;
  value: T;
}

/**
 * Asks endpoint 0 (`ask(0)`); when it fails, or has not answered within `staggerMs`, asks the next
 * one beside it; and so on. Resolves with the first answer. Rejects at once with a failure that
 * `isFatal` says would be the same everywhere (a wrong password), or, once every endpoint has
 * failed, with the failure of the endpoint asked first (its callers report one cause). Endpoints
 * after the one that answers are not asked at all: in the usual case one endpoint is asked, as if
 * there were one (an authenticated etcd spends real CPU on each token), and one that never answers
 * (a member whose machine is off) costs `staggerMs`, not a timeout.
 */
export function firstToAnswer<T>(
  count: number,
  ask: (index: number) => Promise<T>,
  { staggerMs = STAGGER_MS, isFatal = () => false }: { staggerMs?: number; isFatal?: (err: unknown) => boolean } = {},
): Promise<Answer<T>> {
  return new Promise((resolve, reject) => {
    const failures: unknown[] = new Array(count);
    let failed = 0;
    let asked = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      settle();
    };
    const askNext = (): void => {
      clearTimeout(timer);
      if (done || asked === count) return;
      const index = asked++;
      ask(index).then(
        (value) => finish(() => resolve({ index, value })),
        (err: unknown) => {
          failures[index] = err;
          failed++;
          if (isFatal(err)) finish(() => reject(err));
          else if (failed === count) finish(() => reject(failures[0]));
          else if (index === asked - 1) askNext(); // the newest one failed: no need to wait for the stagger
        },
      );
      if (asked < count) timer = setTimeout(askNext, staggerMs);
    };
    askNext();
  });
}
