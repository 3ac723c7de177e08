/**
 * A confd confdir (conf.d/*.toml naming Go templates in templates/) → a perch confdir: each template
 * converted to Handlebars, each resource file copied with its `src` renamed. Nothing is written
 * unless every template converts.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { PerchError, PerchErrors } from "../errors.js";
import { convertTemplate } from "./convert-template.js";

export interface ConvertedFile {
  /** Relative to the confdir: conf.d/x.toml or templates/x.hbs. */
  path: string;
  content: string;
  /** The file it came from, relative to the confdir. */
  from: string;
}

export interface ConvertedConfdir {
  files: ConvertedFile[];
  warnings: PerchError[];
}

const GO_TEMPLATE = /\.(tmpl|template)$/;
/** `src = "…"` in a resource file (TOML basic or literal string), rewritten in place to keep the file as written. */
const SRC_LINE = /^(\s*src\s*=\s*)(?:"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)')/m;

/** bird.cfg.tmpl → bird.cfg.hbs; a name without .tmpl/.template keeps its name and gains .hbs. */
export function handlebarsName(goName: string): string {
  return `${goName.replace(GO_TEMPLATE, "")}.hbs`;
}

export async function convertConfdir(confdir: string): Promise<ConvertedConfdir> {
  const errors: PerchError[] = [];
  const files: ConvertedFile[] = [];
  const warnings: PerchError[] = [];
  const templates = new Set<string>();
  const confd = path.join(confdir, "conf.d");
  for (const name of (await readdir(confd)).filter((n) => n.endsWith(".toml")).sort()) {
    const file = path.join(confd, name);
    const toml = await readFile(file, "utf8");
    const match = SRC_LINE.exec(toml);
    if (match === null) {
      errors.push(new PerchError('no src = "…" line to rename', { file }));
      continue;
    }
    const src = match[2] !== undefined ? JSON.parse(`"${match[2]}"`) as string : (match[3] as string);
    templates.add(src);
    const renamed = `${match[1] as string}${JSON.stringify(handlebarsName(src))}`;
    files.push({ path: path.join("conf.d", name), content: toml.replace(SRC_LINE, renamed), from: path.join("conf.d", name) });
  }
  const templateDir = path.join(confdir, "templates");
  for (const name of await readdir(templateDir, { recursive: true })) {
    if (GO_TEMPLATE.test(name)) templates.add(name);
  }
  for (const src of [...templates].sort()) {
    const file = path.join(templateDir, src);
    try {
      const converted = convertTemplate(await readFile(file, "utf8"), file);
      files.push({ path: path.join("templates", handlebarsName(src)), content: converted.handlebars, from: path.join("templates", src) });
      warnings.push(...converted.warnings);
    } catch (err) {
      errors.push(err instanceof PerchError ? err : new PerchError((err as Error).message, { file }));
    }
  }
  if (errors.length > 0) throw new PerchErrors(errors);
  return { files, warnings };
}
