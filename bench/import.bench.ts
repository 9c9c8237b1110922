/**
 * Cold import of the package's entries, each in fresh processes, beside fastify's own cold import: what a new user
 * pays for `import ... from 'availability-group'` before any of it runs.
 *
 * Each run starts a new `node` that imports one module and reports how long the import took (performance.now around
 * the dynamic import, and the CPU time it used); the parent also times the whole process (node's own start
 * included). Runs alternate between the modules, so a busy machine slows them alike, and the ratio of medians to
 * fastify is the figure to compare across machines. Runs on the build (npm run bench builds first).
 *
 *     npm run bench -- import
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ms, printTable, summarize, type BenchRow } from './stats.js';

const RUNS = Number(process.env.AG_BENCH_RUNS ?? 15);
/**
 * The target: the main entry's cold import (process start included) at most 300 ms on the reference machine, where
 * fastify's takes 190 ms; on a slower or busier machine, the ratio to fastify's (at most 300 / 190) is the figure.
 */
const TARGET_PROCESS_MS = 300;
const TARGET_RATIO = 300 / 190;

const root = new URL('..', import.meta.url);
const subjects = [
  { label: "availability-group (main entry)", specifier: fileURLToPath(new URL('dist/src/index.js', root)) },
  { label: 'availability-group/http', specifier: fileURLToPath(new URL('dist/src/http/index.js', root)) },
  { label: 'fastify', specifier: 'fastify' },
  { label: 'node alone (no import)', specifier: null },
] as const;

const CHILD = `
const specifier = process.argv[1];
const cpu = process.cpuUsage();
const start = performance.now();
if (specifier !== '') await import(specifier.startsWith('/') ? 'file://' + specifier : specifier);
const took = performance.now() - start;
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ importMs: took, cpuMs: (used.user + used.system) / 1000 }));
`;

interface Sample {
  readonly processMs: number;
  readonly importMs: number;
  readonly cpuMs: number;
}

function once(specifier: string | null): Sample {
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, specifier ?? ''], { cwd: fileURLToPath(root), encoding: 'utf8' });
  const processMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.status !== 0) throw new Error(`importing ${specifier} failed: ${child.stderr}`);
  const { importMs, cpuMs } = JSON.parse(child.stdout) as { importMs: number; cpuMs: number };
  return { processMs, importMs, cpuMs };
}

const samples = new Map<string, Sample[]>(subjects.map((subject) => [subject.label, []]));
for (const subject of subjects) once(subject.specifier); // warm the file cache
for (let run = 0; run < RUNS; run += 1) for (const subject of subjects) samples.get(subject.label)!.push(once(subject.specifier));

const median = (label: string, key: keyof Sample) => summarize(samples.get(label)!.map((sample) => sample[key])).median;
const spread = (label: string, key: keyof Sample) => {
  const { min, max } = summarize(samples.get(label)!.map((sample) => sample[key]));
  return `${ms(min)} .. ${ms(max)}`;
};

const rows: BenchRow[] = [];
for (const subject of subjects) {
  const main = subject.label.endsWith('(main entry)');
  rows.push({
    figure: `${subject.label}: process, start to exit`,
    median: ms(median(subject.label, 'processMs')),
    spread: spread(subject.label, 'processMs'),
    target: main ? `<= ${TARGET_PROCESS_MS} ms` : '',
    ok: main ? median(subject.label, 'processMs') <= TARGET_PROCESS_MS : null,
  });
  if (subject.specifier === null) continue;
  rows.push({ figure: `${subject.label}: import() alone`, median: ms(median(subject.label, 'importMs')), spread: spread(subject.label, 'importMs'), target: '', ok: null });
  rows.push({ figure: `${subject.label}: CPU time of import()`, median: ms(median(subject.label, 'cpuMs')), spread: spread(subject.label, 'cpuMs'), target: '', ok: null });
}
const ratio = (key: keyof Sample) => median(subjects[0].label, key) / median('fastify', key);
rows.push({
  figure: 'main entry / fastify, process medians',
  median: `${ratio('processMs').toFixed(2)}x`,
  spread: '',
  target: `<= ${TARGET_RATIO.toFixed(2)}x`,
  ok: ratio('processMs') <= TARGET_RATIO,
});
printTable(`Cold import, ${RUNS} fresh processes each, alternating`, rows);
console.log('');
console.log(`main entry / fastify, ratio of medians: process ${ratio('processMs').toFixed(2)}x, import() ${ratio('importMs').toFixed(2)}x, CPU ${ratio('cpuMs').toFixed(2)}x`);
