// A temporary directory per test (or per file), made before and removed after it: the mkdtemp and
// rm a test file would otherwise write out itself.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";

export interface TempDir {
  /** The directory of the test running now. */
  readonly path: string;
}

/**
 * Call at the top of a test file (or describe block), before its other hooks: vitest runs after-hooks
 * in reverse, so the directory is removed after the file's own cleanup (a process stopped, a mount undone).
 */
export function useTempDir(prefix: string, { perTest = true }: { perTest?: boolean } = {}): TempDir {
  let dir: string | undefined;
  (perTest ? beforeEach : beforeAll)(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  (perTest ? afterEach : afterAll)(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return {
    get path(): string {
      if (dir === undefined) throw new Error(`useTempDir("${prefix}"): read outside the tests it serves`);
      return dir;
    },
  };
}
