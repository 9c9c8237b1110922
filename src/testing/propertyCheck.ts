/**
 * Runs the simulator's properties as a fast-check property over a scenario shape, and reports a failure with
 * everything needed to reproduce it: fast-check's seed and path, the violated property, the scenario, a timeline
 * excerpt and the `npm run sim` command that replays it.
 */
import fc from 'fast-check';
import { scenarioArbitrary, type ScenarioShape } from './arbitraries.js';
import { BROKEN_VARIANTS, type BrokenVariant } from './brokenVariants.js';
import { PROPERTY_NAMES, type PropertyName, type Violation } from './properties.js';
import { SettingsError } from '../api/errors.js';
import { SIM_MEMBERS_RANGE, memberIds, type Scenario } from './scenario.js';
import { SCENARIO_SHAPES, type ScenarioShapeName } from './scenarioShapes.js';
import { runSimulation, type SimulationResult } from './simulation.js';

/**
 * Where a check draws its scenarios from: a named shape (SCENARIO_SHAPES), a shape object (what scenarioArbitrary
 * takes), or any arbitrary of scenarios.
 */
export type ScenarioSource = ScenarioShapeName | ScenarioShape | fc.Arbitrary<Scenario>;

/** How to run a property check. */
export interface PropertyCheckOptions {
  readonly shape: ScenarioSource;
  /**
   * How many nodes form the group, 2 to 7 (default: the shape's, 2 unless it says): for a named shape or a shape
   * object; a custom arbitrary draws its scenarios' `members` itself.
   */
  readonly members?: number;
  /** fast-check seed; fixed in CI, random in the soak run. */
  readonly seed: number;
  readonly numRuns: number;
  /** Replay one case (fast-check's path), as printed by a failure. */
  readonly path?: string;
  /** Only these properties are checked (default: all); the runs go on past what would violate the others. */
  readonly properties?: readonly PropertyName[];
  readonly variant?: BrokenVariant | null;
  /** Shrink a counterexample to a smaller one (default true); false stops at the first failure. */
  readonly shrink?: boolean;
  /**
   * Stop shrinking this many milliseconds of wall time after the first failure (default: no limit) and report the
   * smallest counterexample found by then; its replay command replays exactly it.
   */
  readonly shrinkTimeLimitMs?: number;
  /** Stop after this many milliseconds of wall time (fast-check's `interruptAfterTimeLimit`). */
  readonly timeLimitMs?: number;
}

/** The outcome of a property check. */
export interface PropertyCheckReport {
  readonly failed: boolean;
  readonly runs: number;
  readonly seed: number;
  readonly path: string | null;
  readonly counterexample: Scenario | null;
  readonly violation: Violation | null;
  /** `npm run sim -- ...` that replays the counterexample. */
  readonly replay: string | null;
  /** A human-readable account: property, message, replay command, timeline excerpt. */
  readonly message: string;
  /**
   * For each property, in how many of the runs fast-check made (shrinks included) its premise arose, so that it
   * was not checked vacuously (SimulationResult.exercised): e.g. how many runs reached `convergence`'s quiet tail.
   */
  readonly exercised: Readonly<Record<PropertyName, number>>;
  /** The counterexample's run (its trace, violations, timeline); null when no property failed. */
  readonly result: SimulationResult | null;
}

/** A source's name for messages and, for a named shape, the `npm run sim` options that draw from it. */
function describeSource(source: ScenarioSource, members: number | undefined): { label: string; named: ScenarioShapeName | null } {
  const size = members === undefined || members === SIM_MEMBERS_RANGE[0] ? '' : ` with ${members} members`;
  if (typeof source === 'string') return { label: `shape ${source}${size}`, named: source };
  return { label: source instanceof fc.Arbitrary ? 'a custom arbitrary' : `shape ${JSON.stringify(source)}${size}`, named: null };
}

/** The scenarios a source draws, with `members` nodes when given (a SettingsError for a custom arbitrary). */
function arbitraryOf(source: ScenarioSource, members?: number): fc.Arbitrary<Scenario> {
  if (members !== undefined) memberIds(members);
  if (source instanceof fc.Arbitrary) {
    if (members !== undefined) throw new SettingsError([{ field: 'members', rule: 'applies to a named shape or a shape object; a custom arbitrary draws its own' }]);
    return source;
  }
  const shape = typeof source === 'string' ? SCENARIO_SHAPES[source] : source;
  return scenarioArbitrary(members === undefined ? shape : { ...shape, members });
}

/** Whether a run's violations include one that counts. */
function countedViolation(result: SimulationResult, properties: readonly PropertyName[] | undefined): Violation | null {
  return result.violations.find((violation) => properties === undefined || properties.includes(violation.property)) ?? null;
}

/**
 * Checks the properties over scenarios of one shape (a name, a shape object or an arbitrary). Never throws for a
 * property failure: the report says.
 *
 * @example
 * const report = await checkSimulationProperties({ shape: 'mixed', seed: 1, numRuns: 20 });
 * expect(report.failed, report.message).toBe(false);
 * const custom = await checkSimulationProperties({ shape: { mix: FAULT_MIXES.heavy, maxOps: 0 }, seed: 2, numRuns: 10 });
 */
export async function checkSimulationProperties(options: PropertyCheckOptions): Promise<PropertyCheckReport> {
  const properties = options.properties;
  // A variant whose broken rule needs more members (BrokenVariant.members) runs with them unless told otherwise.
  const members = options.members ?? (options.shape instanceof fc.Arbitrary ? undefined : options.variant?.members);
  options = members === undefined ? options : { ...options, members };
  const source = describeSource(options.shape, options.members);
  const exercised = Object.fromEntries(PROPERTY_NAMES.map((name) => [name, 0])) as Record<PropertyName, number>;
  let last: { scenario: Scenario; result: SimulationResult; violation: Violation } | null = null;
  let firstFailureAt: number | null = null;
  let shrinkCut = false;
  const property = fc.asyncProperty(arbitraryOf(options.shape, options.members), async (scenario) => {
    // Past the shrink budget every further candidate counts as passing: fast-check keeps the last failing one.
    if (firstFailureAt !== null && options.shrinkTimeLimitMs !== undefined && performance.now() - firstFailureAt > options.shrinkTimeLimitMs) {
      shrinkCut = true;
      return true;
    }
    const result = await runSimulation(scenario, { variant: options.variant ?? null, trace: true, ...(properties === undefined ? {} : { properties }) });
    for (const name of result.exercised) exercised[name] += 1;
    const violation = countedViolation(result, properties);
    if (violation !== null) {
      last = { scenario, result, violation };
      firstFailureAt ??= performance.now();
    }
    return violation === null;
  });
  const details = await fc.check(property, {
    seed: options.seed,
    numRuns: options.numRuns,
    endOnFailure: options.shrink === false,
    ...(options.path === undefined ? {} : { path: options.path }),
    ...(options.timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: options.timeLimitMs }),
  });
  if (!details.failed || details.counterexample === null) {
    return {
      failed: false,
      runs: details.numRuns,
      seed: options.seed,
      path: null,
      counterexample: null,
      violation: null,
      replay: null,
      message: `${details.numRuns} scenarios of ${source.label} (seed ${options.seed}) kept every property${properties === undefined ? '' : ` checked (${properties.join(', ')})`}${details.interrupted ? ' (stopped at the time limit)' : ''}`,
      exercised,
      result: null,
    };
  }
  const [scenario] = details.counterexample;
  // The last failing run is the shrunk counterexample; re-run it if fast-check's last try was a passing one.
  const final = last !== null && (last as { scenario: Scenario }).scenario === scenario ? (last as { result: SimulationResult; violation: Violation }) : await rerun(scenario, options);
  const replay = replayCommand(options, source.named, details.counterexamplePath);
  const violation = final.violation;
  const excerptFrom = violation === null ? 0 : violation.t - 2 * scenario.group.allowed_absence_interval * 1000;
  const message = [
    `Property ${violation?.property ?? '(none: the failure did not reproduce)'} failed at ${violation?.t.toFixed(3) ?? '?'} ms: ${violation?.message ?? ''}`,
    `fast-check seed ${options.seed}, path ${details.counterexamplePath}, ${source.label}, after ${details.numRuns} runs and ${details.numShrinks} shrinks${shrinkCut ? ` (shrinking stopped after ${options.shrinkTimeLimitMs} ms)` : ''}`,
    `replay: ${replay}`,
    `scenario: ${JSON.stringify(scenario)}`,
    'timeline (quiet) before the failure:',
    final.result.timeline({ quiet: true, from: excerptFrom }),
  ].join('\n');
  return { failed: true, runs: details.numRuns, seed: options.seed, path: details.counterexamplePath, counterexample: scenario, violation, replay, message, exercised, result: final.result };
}

/**
 * How to replay a counterexample: a named shape from fast-check's seed and path; any other source from the
 * scenario, saved as JSON; a variant of the caller's own (not in BROKEN_VARIANTS) only with runSimulation.
 */
function replayCommand(options: PropertyCheckOptions, named: ScenarioShapeName | null, path: string): string {
  const variant = options.variant ?? null;
  if (variant !== null && (BROKEN_VARIANTS as Readonly<Record<string, BrokenVariant>>)[variant.name] !== variant) {
    return `runSimulation(scenario, { variant }) with your variant ${variant.name} and the scenario below`;
  }
  const variantOption = variant === null ? '' : ` --variant ${variant.name}`;
  if (named === null) return `npm run sim -- --scenario counterexample.json${variantOption}   (counterexample.json: the scenario below)`;
  const membersOption = options.members === undefined || options.members === SIM_MEMBERS_RANGE[0] ? '' : ` --members ${options.members}`;
  return `npm run sim -- --shape ${named} --seed ${options.seed} --path ${path}${membersOption}${variantOption}`;
}

async function rerun(scenario: Scenario, options: PropertyCheckOptions): Promise<{ result: SimulationResult; violation: Violation | null }> {
  const properties = options.properties;
  const result = await runSimulation(scenario, { variant: options.variant ?? null, trace: true, ...(properties === undefined ? {} : { properties }) });
  return { result, violation: countedViolation(result, properties) };
}

/**
 * The first scenario a shape draws for a seed, run with that same seed as its simulator seed: what
 * `npm run sim -- --seed N` and `ag-sim --seed N` run, so that the run reports the seed it was given. (The
 * arbitrary draws a simulator seed of its own, which the property checks keep; a failure's `--path` is replayed by
 * {@link checkSimulationProperties} with that path instead.)
 *
 * `members` (2 to 7) draws from the shape with that many nodes.
 *
 * @example
 * const scenario = scenarioFor('mixed', 42);
 * scenario.seed // 42
 * scenarioFor('crashes', 42, 3).members // 3
 */
export function scenarioFor(shape: ScenarioSource, seed: number, members?: number): Scenario {
  const [scenario] = fc.sample(arbitraryOf(shape, members), { seed, numRuns: 1 });
  if (scenario === undefined) throw new Error(`No scenario for seed ${seed}.`);
  return { ...scenario, seed };
}
