// Importing perch's modules does nothing outside the process: what they set up waits for first use.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "perch-import-"));
  vi.resetModules();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

describe("importing", () => {
  it("the template compiler creates no cache directory; its first compile does", async () => {
    vi.stubEnv("HOME", path.join(dir, "home"));
    vi.stubEnv("XDG_CACHE_HOME", path.join(dir, "xdg"));
    vi.stubEnv("PERCH_CACHE_DIR", path.join(dir, "perch"));
    const { compileTemplate } = await import("../../src/template/compile.js");
    expect(await readdir(dir)).toEqual([]);
    compileTemplate("t.hbs", "/t.hbs", '{{getv "/a"}}');
    expect(await readdir(dir)).toEqual(["perch"]);
  });

  it("the logger opens no stream on stdout and registers nothing for exit", async () => {
    const listeners = process.listenerCount("exit");
    await import("../../src/log/logger.js");
    expect(process.listenerCount("exit")).toBe(listeners);
  });
});
