import { describe, expect, it } from "vitest";
import { daemonV8Flags, launchV8Flags } from "../../src/cli/v8-flags.js";

describe("the daemon's V8 flags", () => {
  it("set --optimize-for-size and take it back, as the quiet-time collection does, so the code cache fits", () => {
    const flags = daemonV8Flags([]);
    expect(flags).toContain("--semi-space-growth-factor=1");
    expect(flags).toContain("--heap-growing-percent=25");
    expect(flags.slice(-2)).toEqual(["--optimize-for-size", "--no-optimize-for-size"]);
  });

  it("leave --optimize-for-size alone when node's command line sets it for the whole process", () => {
    const flags = daemonV8Flags(["--optimize-for-size"]);
    expect(flags).not.toContain("--no-optimize-for-size");
    expect(flags).not.toContain("--optimize-for-size");
  });

  it("are the launcher's only for a command line that starts with watch", () => {
    expect(launchV8Flags(["watch", "--backend", "file"])).toEqual(daemonV8Flags());
    expect(launchV8Flags(["render"])).toEqual([]);
    expect(launchV8Flags(["-onetime", "-backend", "etcdv3"])).toEqual([]);
  });
});
