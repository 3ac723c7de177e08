// perch's own command line: what it takes, and the one message each mistake gets — with the nearest
// flags or command — plus the command whose --help the message points at.
import { describe, expect, it } from "vitest";
import { helpHint, parseArgv, usage, UsageError } from "../../src/cli/argv.js";
import { nearestNames } from "../../src/util/closest.js";

function usageError(argv: string[]): { message: string; command: string | undefined } {
  try {
    parseArgv(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const e = err as UsageError;
    expect(e.errors).toHaveLength(1);
    return { message: e.message, command: e.command };
  }
  throw new Error(`expected ${argv.join(" ")} to be refused`);
}

describe("parseArgv", () => {
  it("takes a command anywhere among its flags, lists comma-separated or repeated, shorts", () => {
    expect(parseArgv(["--noop", "render", "--only", "a,b", "--only=c", "--keys", "k.json"])).toEqual({
      command: "render",
      flags: { noop: true, only: ["a", "b", "c"], keys: "k.json" },
    });
    expect(parseArgv(["snapshot", "-o", "-", "--prefix", "/a"])).toEqual({ command: "snapshot", flags: { output: "-", prefix: ["/a"] } });
    expect(parseArgv(["-h"])).toEqual({ command: undefined, flags: { help: true } });
    expect(parseArgv(["watch", "--help"])).toEqual({ command: "watch", flags: { help: true } });
  });

  it("keeps an explicit empty value (--key-file=): resolveConfig reads it as not given", () => {
    expect(parseArgv(["render", "--key-file=", "--endpoints="]).flags).toEqual({ "key-file": "", endpoints: [] });
  });

  it("names the flags an unknown one is near, among the command's own", () => {
    expect(usageError(["render", "--key", "x"])).toEqual({ message: "unknown flag --key (did you mean --keys or --key-file?)", command: "render" });
    expect(usageError(["render", "--kyes=x"])).toEqual({ message: "unknown flag --kyes (did you mean --keys?)", command: "render" });
    expect(usageError(["render", "--node"]).message).toBe("unknown flag --node (did you mean --noop or --node-name?)");
    // perch check takes neither --keys nor --key-file: nothing near among its flags.
    expect(usageError(["check", "--key"]).message).toBe("unknown flag --key");
    expect(usageError(["--lisen", "watch"])).toEqual({ message: "unknown flag --lisen (did you mean --listen?)", command: "watch" });
    expect(usageError(["-x"])).toEqual({ message: "unknown flag -x", command: undefined });
  });

  it("names the command an unknown one is near, or lists them", () => {
    expect(usageError(["rendr"])).toEqual({ message: 'unknown command "rendr" (did you mean render?)', command: undefined });
    expect(usageError(["deploy"]).message).toBe('unknown command "deploy" (commands: render, watch, check, snapshot, convert)');
  });

  it("refuses a flag without its value, a value for a switch, a stray argument, a flag of another command", () => {
    expect(usageError(["render", "--keys"]).message).toBe("--keys needs a value: --keys FILE");
    expect(usageError(["render", "--keys", "--noop"]).message).toBe("--keys needs a value, got the flag --noop (write --keys=--noop if that is the value)");
    expect(parseArgv(["render", "--keys=--noop"]).flags).toEqual({ keys: "--noop" });
    expect(usageError(["render", "--noop=false"]).message).toBe("--noop takes no value, got --noop=false");
    expect(usageError(["render", "extra"]).message).toBe('unexpected argument "extra"');
    expect(usageError(["render", "render"]).message).toBe('unexpected argument "render"');
    expect(usageError(["check", "--noop"])).toEqual({ message: "--noop does not apply to perch check", command: "check" });
  });

  it("points at the command's help, or perch's", () => {
    expect(helpHint("render")).toBe("Run 'perch render --help' for its flags.");
    expect(helpHint()).toBe("Run 'perch --help' for the commands and their flags.");
  });

  it("shows a command's help with only its flags", () => {
    const check = usage("check");
    expect(check).toMatch(/^usage: perch check \[flags\]\n/);
    expect(check).toContain("--confdir DIR");
    expect(check).not.toContain("--keys");
    expect(check).not.toContain("--noop");
    expect(usage("render")).toContain("--key-file FILE");
  });
});

describe("nearestNames", () => {
  it("finds names within two edits, nearest first", () => {
    expect(nearestNames("relaod_cmd", ["check_cmd", "reload_cmd", "src"])).toEqual(["reload_cmd"]);
    expect(nearestNames("uidd", ["mode", "uid", "gid"])).toEqual(["uid", "gid"]);
    expect(nearestNames("abc", ["abd", "abcd", "xyz"])).toEqual(["abd", "abcd"]);
  });
});
