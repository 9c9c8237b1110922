/**
 * A timeline printer for demos: one line per happening, with the time since the start, the node, and what
 * happened. Times come from the monotonic clock.
 */
export class Timeline {
  readonly #start = performance.now();
  readonly #lines: string[] = [];
  readonly #echo: boolean;

  constructor(options: { echo?: boolean } = {}) {
    this.#echo = options.echo ?? true;
  }

  /** Milliseconds since the timeline started. */
  now(): number {
    return performance.now() - this.#start;
  }

  /** Adds a line: `who` is a node id or `demo`. */
  add(who: string, what: string): void {
    const line = `  +${(this.now() / 1000).toFixed(3).padStart(7)} s  ${who.padEnd(6)} ${what}`;
    this.#lines.push(line);
    if (this.#echo) console.log(line);
  }

  /** Every line so far. */
  lines(): readonly string[] {
    return this.#lines;
  }
}
