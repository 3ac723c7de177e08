// Calico's label selectors (libcalico-go lib/selector, as BGPPeer nodeSelector/peerSelector use them
// in v3.16). A selector is parsed once into closures, so matching every Node of a large cluster on a
// change is a walk over small functions, never a re-parse.

/** A parsed Calico selector: evaluate it against a resource's labels. */
export interface Selector {
  /** The selector as written. */
  readonly source: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
}

/** A selector that does not parse: `position` is the 0-based character offset of the problem. */
export class SelectorError extends Error {
  readonly position: number;

  constructor(source: string, problem: string, position: number) {
    super(`selector ${JSON.stringify(source)} : ${problem} at ${position}`);
    this.name = "SelectorError";
    this.position = position;
  }
}

/** Parse a selector; throws SelectorError (with the position and what was expected) when it does not parse. */
export function parseSelector(source: string): Selector {
  const matches = new SelectorParser(source).parse();
  return { source, matches };
}

type Labels = Readonly<Record<string, string>>;
type Matcher = (labels: Labels) => boolean;

// Calico's label key class; it also covers a DNS-style prefix such as projectcalico.org/name.
const MAX_KEY_LENGTH = 512;
const OPERATORS = "==, !=, in, not in, contains, starts with or ends with";

function isKeyChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x5f || // _
    code === 0x2e || // .
    code === 0x2f || // /
    code === 0x2d // -
  );
}

function isSpace(char: string | undefined): boolean {
  return char === " " || char === "\t" || char === "\n" || char === "\r";
}

function isSymbolicOperatorChar(char: string | undefined): boolean {
  return char === "=" || char === "!" || char === "<" || char === ">" || char === "~";
}

// Own properties only: `has(constructor)` must not see Object.prototype.
function labelValue(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

/** A recursive-descent parser straight over the text: keywords depend on context, so no separate tokenizer. */
class SelectorParser {
  private position = 0;

  constructor(private readonly source: string) {}

  parse(): Matcher {
    this.skipSpace();
    if (this.atEnd()) throw this.fail("expected an expression");
    const matcher = this.parseOr();
    this.skipSpace();
    if (!this.atEnd()) throw this.fail("expected &&, || or the end of the selector");
    return matcher;
  }

  private parseOr(): Matcher {
    const operands = [this.parseAnd()];
    while (this.takeToken("||")) operands.push(this.parseAnd());
    return anyOf(operands);
  }

  private parseAnd(): Matcher {
    const operands = [this.parseNegation()];
    while (this.takeToken("&&")) operands.push(this.parseNegation());
    return allOf(operands);
  }

  private parseNegation(): Matcher {
    let negated = false;
    while (this.takeToken("!")) negated = !negated;
    const operand = this.parseOperand();
    return negated ? (labels) => !operand(labels) : operand;
  }

  private parseOperand(): Matcher {
    if (this.take("(")) {
      const inner = this.parseOr();
      if (!this.takeToken(")")) throw this.fail("expected &&, || or )");
      return inner;
    }
    // A label key cannot contain "(", so "has(" and "all(" always start a function.
    if (this.take("has(")) {
      this.skipSpace();
      const key = this.readKey();
      if (!this.takeToken(")")) throw this.fail("expected )");
      return (labels) => Object.hasOwn(labels, key);
    }
    if (this.take("all(")) {
      if (!this.takeToken(")")) throw this.fail("expected )");
      return () => true;
    }
    if (!this.atKeyChar()) throw this.fail("expected an expression");
    return this.parseComparison(this.readKey());
  }

  /** What follows a label key: an operator and its operand. */
  private parseComparison(key: string): Matcher {
    this.skipSpace();
    const operatorStart = this.position;
    if (isSymbolicOperatorChar(this.peek())) {
      while (isSymbolicOperatorChar(this.peek())) this.position++;
      const operator = this.source.slice(operatorStart, this.position);
      if (operator === "==") {
        const wanted = this.readString();
        return (labels) => labelValue(labels, key) === wanted;
      }
      if (operator === "!=") {
        const unwanted = this.readString();
        return (labels) => labelValue(labels, key) !== unwanted;
      }
      throw this.fail(`unknown operator ${operator}, expected ${OPERATORS}`, operatorStart);
    }
    const word = this.readWord();
    switch (word) {
      case "in": {
        const values = this.readSet();
        return (labels) => {
          const value = labelValue(labels, key);
          return value !== undefined && values.has(value);
        };
      }
      case "not": {
        this.expectWord("in", "not");
        const values = this.readSet();
        return (labels) => {
          const value = labelValue(labels, key);
          return value === undefined || !values.has(value);
        };
      }
      case "contains": {
        const part = this.readString();
        return (labels) => labelValue(labels, key)?.includes(part) ?? false;
      }
      case "starts": {
        this.expectWord("with", "starts");
        const prefix = this.readString();
        return (labels) => labelValue(labels, key)?.startsWith(prefix) ?? false;
      }
      case "ends": {
        this.expectWord("with", "ends");
        const suffix = this.readString();
        return (labels) => labelValue(labels, key)?.endsWith(suffix) ?? false;
      }
      case "":
        throw this.fail(`expected an operator (${OPERATORS})`, operatorStart);
      default:
        throw this.fail(`unknown operator ${word}, expected ${OPERATORS}`, operatorStart);
    }
  }

  private readKey(): string {
    const start = this.position;
    while (this.atKeyChar()) this.position++;
    if (this.position === start) throw this.fail("expected a label key");
    if (this.position - start > MAX_KEY_LENGTH) throw this.fail(`label key longer than ${MAX_KEY_LENGTH} characters`, start);
    return this.source.slice(start, this.position);
  }

  /** The second word of "not in", "starts with", "ends with"; the first word ended at a non-key character. */
  private expectWord(second: string, first: string): void {
    this.skipSpace();
    const start = this.position;
    if (this.readWord() !== second) throw this.fail(`expected ${second} after ${first}`, start);
  }

  private readWord(): string {
    const start = this.position;
    while (this.atKeyChar()) this.position++;
    return this.source.slice(start, this.position);
  }

  /** A '…' or "…" literal: no escapes, it ends at the next matching quote. */
  private readString(expected = "expected a quoted string"): string {
    this.skipSpace();
    const quote = this.peek();
    if (quote !== "'" && quote !== '"') throw this.fail(expected);
    const end = this.source.indexOf(quote, this.position + 1);
    if (end === -1) throw this.fail(`unterminated string, expected a closing ${quote}`);
    const value = this.source.slice(this.position + 1, end);
    this.position = end + 1;
    return value;
  }

  /** `{ 'a', "b" }`; `{}` is allowed, and so is a trailing comma (Calico's parser accepts one). */
  private readSet(): ReadonlySet<string> {
    if (!this.takeToken("{")) throw this.fail("expected {");
    const values = new Set<string>();
    for (;;) {
      if (this.takeToken("}")) return values;
      values.add(this.readString("expected a quoted string or }"));
      if (this.takeToken("}")) return values;
      if (!this.take(",")) throw this.fail("expected , or }");
    }
  }

  /** `text` after any whitespace; the position moves past the whitespace either way. */
  private takeToken(text: string): boolean {
    this.skipSpace();
    return this.take(text);
  }

  private take(text: string): boolean {
    if (!this.source.startsWith(text, this.position)) return false;
    this.position += text.length;
    return true;
  }

  private peek(): string | undefined {
    return this.source[this.position];
  }

  private atEnd(): boolean {
    return this.position >= this.source.length;
  }

  private atKeyChar(): boolean {
    return !this.atEnd() && isKeyChar(this.source.charCodeAt(this.position));
  }

  private skipSpace(): void {
    while (isSpace(this.peek())) this.position++;
  }

  private fail(problem: string, position = this.position): SelectorError {
    return new SelectorError(this.source, problem, position);
  }
}

function allOf(operands: readonly Matcher[]): Matcher {
  const [only] = operands;
  if (operands.length === 1 && only !== undefined) return only;
  return (labels) => {
    for (const operand of operands) if (!operand(labels)) return false;
    return true;
  };
}

function anyOf(operands: readonly Matcher[]): Matcher {
  const [only] = operands;
  if (operands.length === 1 && only !== undefined) return only;
  return (labels) => {
    for (const operand of operands) if (operand(labels)) return true;
    return false;
  };
}
