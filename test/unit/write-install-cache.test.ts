// The install cache keeps what this process installed in the one form it was given (text stays text),
// and the old content it gives back (a diff's old side, a group's put-back) is still exact.
import { lstatSync, readFileSync } from "node:fs";
import { readFile, rm, writeFile as fsWriteFile } from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { unifiedDiff } from "../../src/write/diff.js";
import { stillInstalled } from "../../src/write/installed.js";
import { writeFile, type WritePolicy } from "../../src/write/write-file.js";
import { writeGroup, type GroupPolicy } from "../../src/write/write-group.js";
import { useTempDir } from "../helpers/temp-dir.js";
import { TextPieces } from "../../src/render/rendered-text.js";

const tmp = useTempDir("perch-install-cache-");
let dest: string;
beforeEach(() => {
  dest = path.join(tmp.path, "bird.cfg");
});

const policy: WritePolicy = { checkTimeoutMs: 5_000, noop: false };

function kept(file: string): string | TextPieces | Buffer | undefined {
  return stillInstalled(file, lstatSync(file, { bigint: true }));
}

describe("the install cache", () => {
  it("keeps the text of a text install (no bytes), and the bytes of a bytes install", async () => {
    const text = "protocol bgp caf\u00e9 {}\n".repeat(1000);
    expect((await writeFile(text, dest, policy)).action).toBe("written");
    expect(kept(dest)).toBe(text);

    const again = await writeFile(text, dest, policy);
    expect(again.action).toBe("unchanged");
    // The old side came from the cache, as the text it was given: nothing was read or encoded for it.
    expect(again.previous?.held).toBe(text);

    const bytes = Uint8Array.from([0x61, 0xff, 0x0a]);
    expect((await writeFile(bytes, dest, policy)).action).toBe("written");
    expect(kept(dest)).toEqual(Buffer.from(bytes));
  });

  it("keeps a render's pieces as they are, installs them joined, and finds the same text in other pieces unchanged", async () => {
    const run = "protocol bgp Mesh_10_0_0_1 from bgp_template {\n".repeat(50);
    const rendered = new TextPieces(["head\n", run, "caf\u00e9\n", run, "tail\n"]);
    expect((await writeFile(rendered, dest, policy)).action).toBe("written");
    expect(readFileSync(dest, "utf8")).toBe(rendered.joined());
    expect(kept(dest)).toBe(rendered);

    const same = await writeFile(new TextPieces(["head\n" + run, "caf\u00e9\n" + run, "tail\n"]), dest, policy);
    expect(same.action).toBe("unchanged");
    const changed = await writeFile(new TextPieces(["head\n", run, "cafe\n", run, "tail\n"]), dest, policy);
    expect(changed.action).toBe("written");
    expect(readFileSync(dest, "utf8")).toContain("cafe\n");
  });

  it("gives the installed text as a diff's old side", async () => {
    await writeFile("value 1\ncommon\n", dest, policy);
    const r = await writeFile("value 2\ncommon\n", dest, policy);
    expect(r.action).toBe("written");
    expect(await unifiedDiff(dest, r.previous?.text() ?? null, "value 2\ncommon\n")).toContain("-value 1\n+value 2\n common\n");
  });

  it("compares a destination someone else changed byte for byte, not by its decoded text", async () => {
    await writeFile("\uFFFD\n", dest, policy);
    // Not UTF-8: it decodes to the text just installed, but is other bytes.
    await fsWriteFile(dest, Buffer.from([0xff, 0x0a]));
    const r = await writeFile("\uFFFD\n", dest, policy);
    expect(r.action).toBe("written");
    expect(r.previous?.held).toEqual(Buffer.from([0xff, 0x0a]));
    expect(r.previous?.text()).toBe("\uFFFD\n");
    expect(await readFile(dest)).toEqual(Buffer.from("\uFFFD\n"));
    expect(kept(dest)).toBe("\uFFFD\n");
  });
});

describe("a check group's old content", () => {
  let main: string;
  let inc: string;
  let sabotage: string;
  let groupPolicy: GroupPolicy;
  beforeEach(() => {
    main = path.join(tmp.path, "main.cfg");
    inc = path.join(tmp.path, "inc.cfg");
    sabotage = path.join(tmp.path, "sabotage");
    // The check passes; with the sabotage file it leaves a directory where main.cfg is: main's rename, the group's last, fails.
    groupPolicy = { checkCmd: `if [ -e ${sabotage} ]; then rm -f ${main} && mkdir ${main}; fi`, checkTimeoutMs: 5_000, noop: false, checkOnNoop: true };
  });

  async function failedGroup(): Promise<Awaited<ReturnType<typeof writeGroup>>> {
    await fsWriteFile(sabotage, "");
    const r = await writeGroup([{ dest: main, content: "main 3\n" }, { dest: inc, content: "inc 3\n" }], groupPolicy);
    await rm(sabotage);
    await rm(main, { recursive: true });
    return r;
  }

  it("puts back the text this process installed, byte for byte, and keeps it as text", async () => {
    const installed = "inc caf\u00e9 \u{1F600} 1\n";
    const first = await writeGroup([{ dest: main, content: "main 1\n" }, { dest: inc, content: installed }], groupPolicy);
    expect(first.members.map((m) => m.action)).toEqual(["written", "written"]);

    const r = await failedGroup();
    expect(r.members.map((m) => m.action)).toEqual(["failed", "failed"]);
    expect(r.members[1]?.error).toBe("installing main.cfg of its check group failed; it was put back to its previous content");
    expect(r.members[1]?.previous?.text()).toBe(installed);
    expect(await readFile(inc)).toEqual(Buffer.from(installed, "utf8"));
    expect(kept(inc)).toBe(installed);
  });

  it("puts back bytes someone else wrote (not UTF-8) as they were", async () => {
    const theirs = Buffer.from([0x69, 0x6e, 0x63, 0xff, 0xfe, 0x0a]);
    await fsWriteFile(inc, theirs);
    const r = await failedGroup();
    expect(r.members[1]?.error).toBe("installing main.cfg of its check group failed; it was put back to its previous content");
    expect(await readFile(inc)).toEqual(theirs);
  });

  it("stages an unchanged member as this process installed it, for the check to read", async () => {
    const installed = "inc caf\u00e9 1\n";
    await writeGroup([{ dest: main, content: "main 1\n" }, { dest: inc, content: installed }], groupPolicy);
    const expected = path.join(tmp.path, "expected");
    await fsWriteFile(expected, installed);
    // The check runs on the staged set: it fails unless the staged inc.cfg holds the installed bytes.
    const check = { ...groupPolicy, checkCmd: `cmp "$(dirname {{.src}})/inc.cfg" ${expected}` };
    const r = await writeGroup([{ dest: main, content: "main 2\n" }, { dest: inc, content: installed }], check);
    expect(r.members.map((m) => m.action)).toEqual(["written", "unchanged"]);
    expect(r.check).toMatchObject({ ok: true });
    expect(await readFile(main, "utf8")).toBe("main 2\n");
  });
});
