/**
 * `npm run test:soak [-- --minutes M] [--runs N]`: the property suites with many more cases and random seeds than
 * CI runs. Each shape runs in turn, in rounds, until the time budget (default 10 minutes) is spent; every property
 * (oneAnnouncedPrimary and convergence included) is checked in every run. Every failure is printed with its seed,
 * path and replay command, and each round says in how many runs the conditional properties arose (a crash for
 * failoverHappens, a takeover for absence for noFalseFailover, a quiet tail for convergence); exits 1 if any
 * property failed.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { checkSimulationProperties, SCENARIO_SHAPES, type ScenarioShapeName } from '../src/testing/index.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { minutes: { type: 'string', default: '10' }, runs: { type: 'string', default: '100' } },
  strict: true,
});
const deadline = performance.now() + Number(values.minutes) * 60_000;
const runsPerRound = Number(values.runs);
let failures = 0;
let scenarios = 0;
while (performance.now() < deadline) {
  for (const shape of Object.keys(SCENARIO_SHAPES) as ScenarioShapeName[]) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    const seed = randomInt(0, 2 ** 31 - 1);
    const report = await checkSimulationProperties({ shape, seed, numRuns: runsPerRound, timeLimitMs: left, shrinkTimeLimitMs: 60_000 });
    scenarios += report.runs;
    const { failoverHappens, noFalseFailover, convergence, restartSafety } = report.exercised;
    console.log(
      `${shape}: ${report.failed ? 'FAILED' : 'ok'} (seed ${seed}, ${report.runs} scenarios; exercised failoverHappens ${failoverHappens}, noFalseFailover ${noFalseFailover}, restartSafety ${restartSafety}, convergence ${convergence})`,
    );
    if (report.failed) {
      failures += 1;
      console.log(report.message);
    }
  }
}
console.log(`\nsoak: ${scenarios} scenarios, ${failures} failing seed${failures === 1 ? '' : 's'}`);
process.exitCode = failures === 0 ? 0 : 1;
