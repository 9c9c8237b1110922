/**
 * The edit distance between two strings: the fewest insertions, deletions, substitutions and transpositions of two
 * neighbouring characters that turn `a` into `b` (optimal string alignment), so `stauts` is 1 from `status`.
 *
 * @example
 * editDistance('stauts', 'status') // 1
 * editDistance('confg', 'config') // 1
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `input` (case-insensitive), if it is close enough to be what was meant: at most 1 edit
 * for words up to 4 characters, 2 up to 8, 3 beyond; ties go to the candidate listed first. A candidate that starts
 * with `input` (3 characters at least) also counts, so `agctl stat` suggests `state`.
 *
 * @example
 * didYouMean('stauts', ['start', 'state', 'status']) // 'status'
 * didYouMean('xyz', ['start', 'state']) // undefined
 */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const wanted = input.toLowerCase();
  const limit = wanted.length <= 4 ? 1 : wanted.length <= 8 ? 2 : 3;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  if (best !== undefined) return best.candidate;
  return wanted.length >= 3 ? candidates.find((candidate) => candidate.toLowerCase().startsWith(wanted)) : undefined;
}

/**
 * The end of a usage message for an unknown word: `; got "shwo" (did you mean "show"?)`, `; got "x"`, or "" when
 * nothing was given.
 *
 * @example
 * `give an action: show or leave${suggestion('shwo', ['show', 'leave'])}` // 'give an action: show or leave; got "shwo" (did you mean "show"?)'
 */
export function suggestion(given: string | undefined, candidates: readonly string[]): string {
  if (given === undefined) return '';
  const meant = didYouMean(given, candidates);
  return `; got ${JSON.stringify(given)}${meant === undefined ? '' : ` (did you mean "${meant}"?)`}`;
}
