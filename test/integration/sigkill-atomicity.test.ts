import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { readdir, readFile, stat, writeFile as fsWriteFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { writeFile } from "../../src/write/write-file.js";
import { useTempDir } from "../helpers/temp-dir.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const compiledWriter = path.join(root, "dist/write/write-file.js");
const KILLS = 60;

/** ~200 KB of config-like lines, ending with a line that carries the SHA-256 of the rest. */
function content(label: string): Buffer {
  const lines: string[] = [];
  for (let i = 0; lines.join("").length < 200_000; i++) {
    lines.push(`protocol bgp ${label}_peer_${i} { neighbor 10.${i >> 8 & 255}.${i & 255}.1 as 64512; }\n`);
  }
  const body = lines.join("");
  return Buffer.from(`${body}# sha256 ${createHash("sha256").update(body).digest("hex")}\n`);
}

// The child is plain JavaScript (no TypeScript loader is installed), so it runs the compiled writer.
const CHILD = `
import { readFileSync } from "node:fs";
import { writeFile } from ${JSON.stringify(pathToFileURL(compiledWriter).href)};
const [dest, ...files] = process.argv.slice(2);
const contents = files.map((file) => readFileSync(file));
process.stdout.write("ready\\n");
for (let i = 0; ; i++) {
  const r = await writeFile(contents[i % 2], dest, { checkTimeoutMs: 5000, noop: false });
  if (r.action === "failed") {
    process.stderr.write(r.error + "\\n");
    process.exit(1);
  }
}
`;

const destDir = useTempDir("perch-sigkill-", { perTest: false });
const workDir = useTempDir("perch-sigkill-work-", { perTest: false });
beforeAll(async () => {
  // vitest runs src/ directly, but the child needs dist/: refuse a stale build rather than test it.
  const built = await stat(compiledWriter).catch(() => null);
  const sourceDirs = ["src/write", "src/command"].map((d) => path.join(root, d));
  const files = (await Promise.all(sourceDirs.map(async (d) => (await readdir(d)).map((f) => path.join(d, f))))).flat();
  const sources = await Promise.all(files.map((f) => stat(f)));
  if (built === null || sources.some((s) => s.mtimeMs > built.mtimeMs)) {
    throw new Error(`${compiledWriter} is missing or older than src/write or src/command: run \`npm run build\` first (npm test does)`);
  }
});

async function readyOrDied(child: ReturnType<typeof spawn>): Promise<void> {
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("ready\n")) resolve();
    });
    child.once("exit", (code, signal) => reject(new Error(`writer child exited early (${code ?? signal}): ${stderr}`)));
  });
}

describe("SIGKILL during writes", () => {
  it("leaves the destination whole (old or new content, never partial or missing)", async () => {
    const a = content("a");
    const b = content("b");
    const [aFile, bFile, script] = ["a.cfg", "b.cfg", "writer-child.mjs"].map((f) => path.join(workDir.path, f));
    await fsWriteFile(aFile!, a);
    await fsWriteFile(bFile!, b);
    await fsWriteFile(script!, CHILD);
    const dir = destDir.path;
    const dest = path.join(dir, "bird.cfg");

    const seen = { a: 0, b: 0, missing: 0 };
    let staleSeen = 0;
    for (let i = 0; i < KILLS; i++) {
      const child = spawn(process.execPath, [script!, dest, aFile!, bFile!], { stdio: ["ignore", "pipe", "pipe"] });
      const exited = once(child, "exit");
      // Timed from "ready" rather than from spawn: Node's start-up alone outlasts 30 ms.
      await readyOrDied(child);
      await sleep(Math.random() * 30);
      child.kill("SIGKILL");
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      expect({ code, signal }).toEqual({ code: null, signal: "SIGKILL" });

      const now = await readFile(dest).catch(() => null);
      if (now === null) {
        expect(seen.a + seen.b, `destination vanished after kill ${i}`).toBe(0);
        seen.missing++;
      } else if (now.equals(a)) {
        seen.a++;
      } else {
        expect(now.equals(b), `destination after kill ${i} is neither A nor B (${now.length} bytes)`).toBe(true);
        seen.b++;
      }
      staleSeen += (await readdir(dir)).filter((name) => name.includes(".perch-stage-")).length;
    }
    // Both contents must have been installed and interrupted, or the test exercised nothing.
    expect(seen.a).toBeGreaterThan(0);
    expect(seen.b).toBeGreaterThan(0);
    console.log(`after ${KILLS} kills: A ${seen.a}, B ${seen.b}, missing ${seen.missing}; stage files left by kills: ${staleSeen}`);

    const final = await writeFile("final\n", dest, { checkTimeoutMs: 5_000, noop: false });
    expect(final.action).toBe("written");
    expect(await readFile(dest, "utf8")).toBe("final\n");
    expect(await readdir(dir)).toEqual(["bird.cfg"]);
  }, 40_000);
});
