/**
 * `perch convert SRC [DEST]`: confd's Go templates to perch's Handlebars. SRC is a confd confdir
 * (conf.d/ and templates/), converted into the confdir DEST; or one template, converted into the
 * file DEST (stdout without one). Untranslatable constructs stop it with file:line and why.
 */
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { errorMessage, PerchError, PerchErrors } from "../errors.js";
import { convertConfdir } from "../convert/convert-confdir.js";
import { convertTemplate } from "../convert/convert-template.js";
import { EXIT } from "./exit.js";

export const CONVERT_USAGE = [
  "usage: perch convert SRC [DEST] [--force]",
  "",
  "translate confd Go templates into perch Handlebars templates",
  "  SRC a confd confdir (conf.d/*.toml, templates/*.tmpl): DEST is the perch confdir to write",
  "  SRC a template file: DEST is the .hbs file to write (stdout when left out)",
  "",
  "flags:",
  "  --force    overwrite files that exist in DEST",
  "",
  "exit status: 0 converted; 1 a construct has no faithful translation (file:line: why); 2 bad usage",
].join("\n");

export async function convertCommand(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { force: { type: "boolean" }, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (err) {
    return usageError(errorMessage(err));
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${CONVERT_USAGE}\n`);
    return EXIT.ok;
  }
  const [src, dest, ...extra] = parsed.positionals;
  if (src === undefined) return usageError("missing SRC");
  if (extra.length > 0) return usageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const force = parsed.values.force === true;
  try {
    const isDir = (await stat(src)).isDirectory();
    if (isDir && dest === undefined) return usageError("converting a confdir needs DEST, the perch confdir to write");
    return isDir ? await convertDir(src, dest as string, force) : await convertFile(src, dest, force);
  } catch (err) {
    const errors = err instanceof PerchErrors ? err.errors.map((e) => e.toString()) : [errorMessage(err)];
    for (const e of errors) process.stderr.write(`perch convert: ${e}\n`);
    return EXIT.failed;
  }
}

function usageError(message: string): number {
  process.stderr.write(`perch convert: ${message}\n\n${CONVERT_USAGE}\n`);
  return EXIT.usage;
}

function warn(warnings: readonly PerchError[]): void {
  for (const w of warnings) process.stderr.write(`perch convert: warning: ${w.toString()}\n`);
}

async function convertFile(src: string, dest: string | undefined, force: boolean): Promise<number> {
  const converted = convertTemplate(await readFile(src, "utf8"), src);
  warn(converted.warnings);
  if (dest === undefined || dest === "-") {
    process.stdout.write(converted.handlebars);
    return EXIT.ok;
  }
  await refuseExisting([dest], force);
  await writeConverted(dest, converted.handlebars);
  process.stdout.write(`${src} → ${dest}\n`);
  return EXIT.ok;
}

async function convertDir(src: string, dest: string, force: boolean): Promise<number> {
  const { files, warnings } = await convertConfdir(src);
  warn(warnings);
  await refuseExisting(files.map((f) => path.join(dest, f.path)), force);
  for (const file of files) await writeConverted(path.join(dest, file.path), file.content);
  for (const file of files) process.stdout.write(`${path.join(src, file.from)} → ${path.join(dest, file.path)}\n`);
  return EXIT.ok;
}

/** Before anything is written: a conversion never leaves half a confdir over an existing one. */
async function refuseExisting(files: readonly string[], force: boolean): Promise<void> {
  if (force) return;
  const existing = await Promise.all(files.map((file) => stat(file).then(() => file, () => undefined)));
  const errors = existing.filter((file) => file !== undefined).map((file) => new PerchError("exists; --force overwrites it", { file }));
  if (errors.length > 0) throw new PerchErrors(errors);
}

async function writeConverted(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}
