/**
 * Typed reads from a decoded JSON document, each failing with the field's dotted path, so that a
 * v3 resource with a missing or ill-typed field is reported as exactly that.
 */
import { describeValue } from "../util/describe-value.js";

export class FieldError extends Error {}

type Json = Record<string, unknown>;

export class Fields {
  constructor(
    private readonly doc: Json,
    private readonly path: string,
  ) {}

  static root(value: unknown, what: string): Fields {
    if (!isObject(value)) throw new FieldError(`${what} is not a JSON object`);
    return new Fields(value, "");
  }

  private where(name: string): string {
    return this.path === "" ? name : `${this.path}.${name}`;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.doc, name) && this.doc[name] !== null;
  }

  /** The raw value; absent or null: undefined. */
  value(name: string): unknown {
    return this.has(name) ? this.doc[name] : undefined;
  }

  /** A nested object; absent: undefined. */
  object(name: string): Fields | undefined {
    if (!this.has(name)) return undefined;
    const value = this.doc[name];
    if (!isObject(value)) throw new FieldError(`${this.where(name)} must be an object`);
    return new Fields(value, this.where(name));
  }

  requireObject(name: string): Fields {
    return this.required(name, this.object(name));
  }

  string(name: string): string | undefined {
    if (!this.has(name)) return undefined;
    const value = this.doc[name];
    if (typeof value !== "string") throw new FieldError(`${this.where(name)} must be a string, got ${describeValue(value)}`);
    return value;
  }

  requireString(name: string): string {
    return this.required(name, this.string(name));
  }

  private required<T>(name: string, value: T | undefined): T {
    if (value === undefined) throw new FieldError(`${this.where(name)} is missing`);
    return value;
  }

  boolean(name: string): boolean | undefined {
    if (!this.has(name)) return undefined;
    const value = this.doc[name];
    if (typeof value !== "boolean") throw new FieldError(`${this.where(name)} must be true or false, got ${describeValue(value)}`);
    return value;
  }

  /** A whole number in [min, max]. */
  integer(name: string, min: number, max: number): number | undefined {
    if (!this.has(name)) return undefined;
    const value = this.doc[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new FieldError(`${this.where(name)} must be a whole number from ${min} to ${max}, got ${describeValue(value)}`);
    }
    return value;
  }

  /** A list of objects; absent: undefined. */
  objects(name: string): Fields[] | undefined {
    if (!this.has(name)) return undefined;
    const value = this.doc[name];
    if (!Array.isArray(value)) throw new FieldError(`${this.where(name)} must be a list`);
    return value.map((item, i) => {
      if (!isObject(item)) throw new FieldError(`${this.where(name)}[${i}] must be an object`);
      return new Fields(item, `${this.where(name)}[${i}]`);
    });
  }

  /** A list of strings; absent: undefined. */
  strings(name: string): string[] | undefined {
    if (!this.has(name)) return undefined;
    const value = this.doc[name];
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw new FieldError(`${this.where(name)} must be a list of strings`);
    return value as string[];
  }

  /** An object of string → string (labels, a Secret's data); absent: {}. */
  stringMap(name: string): Record<string, string> {
    const inner = this.object(name);
    if (inner === undefined) return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(inner.doc)) {
      if (typeof v !== "string") throw new FieldError(`${inner.where(k)} must be a string, got ${describeValue(v)}`);
      out[k] = v;
    }
    return out;
  }

  /** Fail with this field's path. */
  fail(name: string, message: string): never {
    throw new FieldError(`${this.where(name)} ${message}`);
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
