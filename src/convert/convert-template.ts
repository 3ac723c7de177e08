/** One confd Go template → one perch Handlebars template: parse, translate, keep Go's whitespace. */
import type { PerchError } from "../errors.js";
import { parseGoTemplate } from "./go-parser.js";
import { printHandlebars } from "./standalone.js";
import { translateGoTemplate } from "./translate.js";

export interface ConvertedTemplate {
  handlebars: string;
  /** Where the output may differ from Go's, depending on the store's data (file:line and why). */
  warnings: PerchError[];
}

/** Throws a PerchError with the file and line of the first construct that has no faithful translation. */
export function convertTemplate(source: string, file: string): ConvertedTemplate {
  const template = parseGoTemplate(source, file);
  const { tokens, warnings } = translateGoTemplate(template, file);
  return { handlebars: printHandlebars(tokens, file), warnings };
}
