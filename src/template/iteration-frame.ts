/**
 * The data frames of memoized `{{#each}}` iterations: `@index`, `@key`, `@first` and `@last` are getters that
 * note which iterations read their position, so a key coming or going re-renders only those that did.
 */

/** Handlebars data: `@name` variables, and `_parent` for `@../name`. */
export type DataFrame = Record<string | symbol, unknown>;

export type PositionPart = "index" | "first" | "last";

/** One iteration's place in its list, and whether its render asked for it. */
export class Position {
  readIndex = false;
  readFirst = false;
  readLast = false;
  /** Told of every read (by the memo: an iteration nested in this one that reads it depends on it too). */
  onRead: ((position: Position, part: PositionPart) => void) | undefined;

  constructor(
    readonly index: number,
    readonly count: number,
  ) {}

  get first(): boolean {
    return this.index === 0;
  }

  get last(): boolean {
    return this.index === this.count - 1;
  }

  read(part: PositionPart): number | boolean {
    if (part === "index") this.readIndex = true;
    else if (part === "first") this.readFirst = true;
    else this.readLast = true;
    this.onRead?.(this, part);
    return part === "index" ? this.index : part === "first" ? this.first : this.last;
  }
}

/** What a remembered iteration keeps of its Position besides its index, as bits: the parts it read, and whether it was last. */
export const PlaceBit = { ReadIndex: 1, ReadFirst: 2, ReadLast: 4, WasLast: 8 } as const;

export function placeBits(position: Position): number {
  return (
    (position.readIndex ? PlaceBit.ReadIndex : 0) |
    (position.readFirst ? PlaceBit.ReadFirst : 0) |
    (position.readLast ? PlaceBit.ReadLast : 0) |
    (position.last ? PlaceBit.WasLast : 0)
  );
}

/** Reusable at this place: the same position, or one that differs only in what the iteration did not read. */
export function samePlace(was: number, place: number, index: number, count: number): boolean {
  if ((place & PlaceBit.ReadIndex) !== 0 && was !== index) return false;
  if ((place & PlaceBit.ReadFirst) !== 0 && (was === 0) !== (index === 0)) return false;
  const wasLast = (place & PlaceBit.WasLast) !== 0;
  return !((place & PlaceBit.ReadLast) !== 0 && wasLast !== (index === count - 1));
}

const POSITION = Symbol("position");
const POSITION_NAMES = new Set(["index", "key", "first", "last"]);

/** A frame below `parent` for one iteration at `position`. */
export function iterationFrame(parent: DataFrame | undefined, position: Position): DataFrame {
  return fill(positionFrame(position), parent);
}

/**
 * Handlebars' createFrame, except that the position getters of an enclosing iteration are carried over as getters:
 * copying them by value would count every nested `{{#let}}` as a read of the position.
 */
export function childFrame(parent: DataFrame | undefined): DataFrame {
  if (parent === undefined) return {};
  const position = parent[POSITION] as Position | undefined;
  return fill(position === undefined ? {} : positionFrame(position), parent);
}

/** Copies the parent's variables but its position getters (the frame has its own, or the same ones). */
function fill(frame: DataFrame, parent: DataFrame | undefined): DataFrame {
  if (parent === undefined) return frame;
  const tracked = parent[POSITION] !== undefined;
  for (const name in parent) {
    if (!Object.prototype.hasOwnProperty.call(parent, name) || (tracked && POSITION_NAMES.has(name))) continue;
    frame[name] = parent[name];
  }
  frame._parent = parent;
  return frame;
}

/** Binds `{{#let}}` variables; one named like a position variable ends the frame's tracking (it reads the rest). */
export function bind(frame: DataFrame, variables: Record<string, unknown>): void {
  const position = frame[POSITION] as Position | undefined;
  if (position !== undefined && Object.keys(variables).some((name) => POSITION_NAMES.has(name))) {
    for (const name of POSITION_NAMES) Object.defineProperty(frame, name, { value: frame[name], writable: true, enumerable: true, configurable: true });
    delete frame[POSITION];
  }
  Object.assign(frame, variables);
}

/** The frame's own values as a render sees them, positions read without counting as a read. */
export function frameValues(frame: DataFrame): Array<[string, unknown]> {
  const position = frame[POSITION] as Position | undefined;
  const out: Array<[string, unknown]> = [];
  for (const name in frame) {
    if (!Object.prototype.hasOwnProperty.call(frame, name) || name === "_parent") continue;
    out.push([name, position !== undefined && POSITION_NAMES.has(name) ? rawPosition(position, name) : frame[name]]);
  }
  return out;
}

function rawPosition(position: Position, name: string): unknown {
  if (name === "first") return position.first;
  if (name === "last") return position.last;
  return position.index;
}

/** A literal, not defineProperty: V8 keeps it a fast object (an iteration renders thousands). */
function positionFrame(position: Position): DataFrame {
  return {
    [POSITION]: position,
    get index() {
      return position.read("index");
    },
    get key() {
      return position.read("index");
    },
    get first() {
      return position.read("first");
    },
    get last() {
      return position.read("last");
    },
  };
}
