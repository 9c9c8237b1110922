/**
 * Resolves after `ms` milliseconds (a planned wait in a benchmark run: the settle time and the kill phase).
 *
 * @example
 * await sleep(1000 + random() * intervalMs);
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
