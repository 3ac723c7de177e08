import { describe, expect, it } from "vitest";
import { failureLevel } from "../../src/sync/report.js";

describe("failureLevel: each failure is logged once", () => {
  it("a one-shot's report carries its failures: debug", () => {
    expect(failureLevel({ reportsFailures: true }, "t", "boom")).toBe("debug");
  });

  it("the daemon: a new failure, or the same resource failing another way, is an error; the same failure again is debug", () => {
    const knownFailures = new Map([["t", { error: "check_cmd failed: exit status 1" }]]);
    expect(failureLevel({ knownFailures }, "t", "check_cmd failed: exit status 1")).toBe("debug");
    expect(failureLevel({ knownFailures }, "t", "cannot write /x: ENOSPC")).toBe("error");
    expect(failureLevel({ knownFailures }, "u", "check_cmd failed: exit status 1")).toBe("error");
    expect(failureLevel({}, "t", "boom")).toBe("error");
  });
});
