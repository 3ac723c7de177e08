/**
 * When a pass may render its next resource. Watch mode: after each write, so a changed file is in place
 * first. overlapRenders: unchecked writes side by side; a checked one after every earlier write (its
 * check sees them), the pass going on once it waits on its fsync or check_cmd (WriteOverlap.onWaiting).
 */
export class WriteSchedule {
  private readonly writes: Promise<void>[] = [];

  constructor(private readonly overlapRenders: boolean) {}

  /** Starts `write` in its turn; resolves when the pass may render the next resource. */
  async add(checked: boolean, write: (onWaiting: () => void) => Promise<void>): Promise<void> {
    const alongside = this.overlapRenders && !checked;
    if (!alongside) await Promise.all(this.writes);
    let handOver = (): void => undefined;
    const handedOver = new Promise<void>((resolve) => (handOver = resolve));
    const writing = write(handOver);
    this.writes.push(writing);
    if (!alongside) await (this.overlapRenders ? Promise.race([handedOver, writing]) : writing);
  }

  /** Resolves when every write added has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.writes);
  }
}
