/**
 * Handlebars removes the line around a block tag, comment or partial that stands alone on its line;
 * Go keeps every character. The converted text is parsed with Handlebars itself and, where it would
 * strip, the text is given the whitespace back (the stripped newline written twice) or, where
 * indentation would go, the tag is kept from standing alone by an empty comment `{{!}}` before it.
 */
import { createRequire } from "node:module";
import type Hbs from "handlebars";
import { PerchError } from "../errors.js";
import type { HbsToken } from "./translate.js";

const loadCommonJs = createRequire(import.meta.url);
const KEEP_STANDALONE = "{{!}}";
/** Each round fixes every strip it sees; a strip can only appear once its neighbour's is fixed. */
const MAX_ROUNDS = 8;

/** A ContentStatement as the parser leaves it (its typings call `original` strip flags). */
interface Content {
  value: string;
  original: string;
  leftStripped?: boolean;
}

/** The Handlebars source of the tokens, exactly as they will render with perch's standalone rules. */
export function printHandlebars(input: readonly HbsToken[], file: string): string {
  const handlebars = loadCommonJs("handlebars") as typeof Hbs;
  // Each text token with the text it must render as.
  let tokens = separateBraces(input).map((t) => ({ ...t, intended: t.text }));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const source = join(tokens);
    const contents = contentStatements(handlebars.parse(source));
    const texts = tokens.filter((t) => t.kind === "text");
    if (contents.length !== texts.length) throw new PerchError(`internal error: ${contents.length} text parts in the output for ${texts.length} written`, { file });
    const stripped = contents.map((c, i) => ({ content: c, token: texts[i] as (typeof tokens)[number] })).filter(({ content, token }) => content.value !== token.intended);
    if (stripped.length === 0) return source;
    const left = stripped.filter(({ content }) => content.leftStripped === true);
    if (left.length > 0) {
      tokens = tokens.flatMap((t) => (left.some((l) => l.token === t) ? [t, { kind: "tag" as const, text: KEEP_STANDALONE, intended: KEEP_STANDALONE }] : [t]));
      continue;
    }
    for (const { content, token } of stripped) {
      token.text = content.original.slice(0, content.original.length - content.value.length) + token.text;
    }
  }
  throw new PerchError("internal error: could not keep the whitespace around standalone tags", { file });
}

/**
 * Braces that Handlebars would read as part of a tag: `{{` inside text (two texts Go kept apart can
 * meet in the output), `{` right before a tag (`{{{x}}`) — printed by a helper instead — and `}` right
 * after a tag (`{{x}}}` closes a triple stash), which goes after an empty comment.
 */
function separateBraces(tokens: readonly HbsToken[]): HbsToken[] {
  const out: HbsToken[] = [];
  tokens.forEach((token, i) => {
    if (token.kind === "tag") {
      out.push(token);
      return;
    }
    const beforeTag = tokens[i + 1]?.kind === "tag";
    // Runs of two or more "{", and a last "{" before a tag.
    const parts = token.text.split(beforeTag ? /(\{\{+|\{$)/ : /(\{\{+)/);
    parts.forEach((part, j) => {
      if (part === "") return;
      if (j % 2 === 1) {
        out.push({ kind: "tag", text: `{{concat "${part}" ""}}` });
        return;
      }
      if (out[out.length - 1]?.kind === "tag" && part.startsWith("}")) out.push({ kind: "tag", text: KEEP_STANDALONE });
      out.push({ kind: "text", text: part });
    });
  });
  return out;
}

/** Text before a tag that ends in a backslash would escape the tag: one more backslash keeps them all. */
function join(tokens: readonly HbsToken[]): string {
  let out = "";
  tokens.forEach((token, i) => {
    const next = tokens[i + 1];
    out += token.kind === "text" && next?.kind === "tag" && token.text.endsWith("\\") ? `${token.text}\\` : token.text;
  });
  return out;
}

/** Every ContentStatement in document order. */
function contentStatements(program: hbs.AST.Program): Content[] {
  const out: Content[] = [];
  const visit = (p: hbs.AST.Program | undefined): void => {
    for (const statement of p?.body ?? []) {
      if (statement.type === "ContentStatement") out.push(statement as unknown as Content);
      else if (statement.type === "BlockStatement" || statement.type === "DecoratorBlock") {
        const block = statement as hbs.AST.BlockStatement;
        visit(block.program);
        visit(block.inverse);
      }
    }
  };
  visit(program);
  return out;
}
