/**
 * `npm run sim` and the installed `ag-sim` bin: replays one simulated scenario, or a property failure from the
 * fast-check seed and path it printed, and prints the verdict and a short summary; the timeline on request.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FAULT_MIXES } from '../arbitraries.js';
import { BROKEN_VARIANTS, type BrokenVariantName } from '../brokenVariants.js';
import { checkSimulationProperties, scenarioFor } from '../propertyCheck.js';
import { SIM_MEMBERS_RANGE, checkScenario, type Fault, type Scenario } from '../scenario.js';
import { SCENARIO_SHAPES, isScenarioShapeName } from '../scenarioShapes.js';
import { runSimulation, type SimulationResult } from '../simulation.js';
import { formatSummary, formatVerdict } from '../summary.js';

/**
 * The help text, for the command as `program` (`npm run sim --` in a clone, `ag-sim` from an installed package).
 *
 * @example
 * process.stdout.write(simHelp('ag-sim'));
 */
export function simHelp(program: string): string {
  return `${program} --seed <n> [options]: run one simulated scenario; print the verdict and a summary

The scenario is the first one the shape's fast-check arbitrary draws for the seed (the same every time), run with
that seed as the simulator's seed (printed as given: "Run: seed <n>"). The real nodes (two, or --members) run on
simulated clocks, network and authority (DNS, or etcd for more than two); every property is checked at every
instant. The output starts with the verdict (every property held, or the violation) and a short summary (faults,
operator actions, takeovers, each node's role changes, the epochs in DNS, the properties the run exercised), then
the scenario as JSON; the timeline only with --timeline. Exits 1 if a property failed, 2 on a usage error.

Options:
  --seed <n>          seed of the scenario, a 32-bit whole number, a negative one as --seed=-5 (required unless
                      --scenario is given)
  --shape <name>      ${wrapOptionText(`scenario shape: ${Object.keys(SCENARIO_SHAPES).join(', ')} (default mixed)`)}
  --faults <f>        fault schedule: none, light, heavy (drawn from the seed), or a JSON file holding an array of
                      faults (see docs/testing.md); replaces the shape's faults
  --duration <s>      run length in simulated seconds (default: drawn, 10 to 25 failover periods)
  --members <n>       nodes in the group, 2 to 7 (default 2): a creates it, b, c, ... join in turn; faults and
                      operator actions name any of them; more than two run with coordination etcd (the simulated
                      authority stands for the etcd cluster). Not with --scenario, which says its own
  --path <p>          replay a property failure: fast-check's path, as printed with the seed (needs --shape, and
                      --members if the failure printed it)
  --variant <name>    ${wrapOptionText(`run a broken variant: ${Object.keys(BROKEN_VARIANTS).join(', ')}`)}
  --scenario <file>   run a scenario saved as JSON (a failure prints one; a trace holds one under "scenario")
  --json <file>       also write the trace as JSON (docs/trace-format.md)
  --timeline          also print the timeline, quiet: without routine heartbeat traffic and Secondary progress
  --full              print the timeline with every entry (implies --timeline)
  -h, --help          show this help
`;
}

/** An option's description wrapped at 115 columns, its continuation lines aligned under its first (column 23). */
function wrapOptionText(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && 22 + line.length + 1 + word.length > 115) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(22)}`);
}

/** The help text of `npm run sim`. */
export const SIM_HELP = simHelp('npm run sim --');

/** The lowest and highest seed accepted: fast-check's seeds are 32-bit (it prints negative ones too). */
const SEED_RANGE = [-0x80000000, 0xffffffff] as const;

/**
 * Runs the command with `argv`; resolves with the exit code (0 all properties held, 1 one failed, 2 usage error).
 *
 * @example
 * process.exitCode = await runSimCommand(['--seed', '42', '--faults', 'heavy']);
 */
export async function runSimCommand(argv: readonly string[], program = 'npm run sim --'): Promise<number> {
  const usage = (message: string): number => {
    process.stderr.write(`${program === 'npm run sim --' ? 'sim' : program}: ${message}\n\n${simHelp(program)}`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        seed: { type: 'string' },
        shape: { type: 'string', default: 'mixed' },
        faults: { type: 'string' },
        duration: { type: 'string' },
        members: { type: 'string' },
        path: { type: 'string' },
        variant: { type: 'string' },
        scenario: { type: 'string' },
        json: { type: 'string' },
        timeline: { type: 'boolean', default: false },
        full: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(simHelp(program));
    return 0;
  }
  const shape = values.shape;
  if (!isScenarioShapeName(shape)) return usage(`unknown shape "${shape}"`);
  if (values.variant !== undefined && !Object.hasOwn(BROKEN_VARIANTS, values.variant)) return usage(`unknown variant "${values.variant}"`);
  const variant = values.variant === undefined ? null : BROKEN_VARIANTS[values.variant as BrokenVariantName];
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && (values.seed!.trim() === '' || !Number.isSafeInteger(seed) || seed < SEED_RANGE[0] || seed > SEED_RANGE[1])) {
    return usage(`--seed must be a whole number from ${SEED_RANGE[0]} to ${SEED_RANGE[1]}, not "${values.seed}"`);
  }
  // A variant whose broken rule needs more members (BrokenVariant.members) runs with them unless told otherwise.
  const members = values.members === undefined ? (values.scenario === undefined ? variant?.members : undefined) : Number(values.members);
  if (values.members !== undefined && (values.members.trim() === '' || !Number.isInteger(members) || members! < SIM_MEMBERS_RANGE[0] || members! > SIM_MEMBERS_RANGE[1])) {
    return usage(`--members must be a whole number from ${SIM_MEMBERS_RANGE[0]} to ${SIM_MEMBERS_RANGE[1]}, not "${values.members}"`);
  }
  if (values.members !== undefined && values.scenario !== undefined) return usage('--members does not go with --scenario: the scenario says how many members it has');
  const timeline = values.timeline || values.full ? { quiet: !values.full } : null;
  if (values.path !== undefined) {
    if (seed === undefined) return usage('--path needs the --seed it was printed with');
    // Exactly the case at that path: no further shrinking.
    const report = await checkSimulationProperties({ shape, seed, numRuns: 1_000_000, path: values.path, variant, shrink: false, ...(members === undefined ? {} : { members }) });
    if (!report.failed || report.result === null) {
      process.stdout.write(`Verdict: every property held. ${report.message}\n`);
      return 0;
    }
    const size = members === undefined || members === SIM_MEMBERS_RANGE[0] ? '' : ` with ${members} members`;
    process.stdout.write(`${formatVerdict(report.result)}\n\nReplayed: fast-check seed ${seed}, path ${values.path}, shape ${shape}${size}; the case's own simulator seed is ${report.result.scenario.seed}.\n`);
    await print(report.result, timeline, values.json, false);
    return 1;
  }
  let scenario: Scenario;
  try {
    scenario = await chooseScenario(values, shape, seed, members);
    // A scenario from a file, or faults from one, may name nodes the group does not have: a usage error.
    checkScenario(scenario);
  } catch (error) {
    return usage((error as Error).message);
  }
  const result = await runSimulation(scenario, { variant, stopOnViolation: true });
  await print(result, timeline, values.json);
  return result.violations.length === 0 ? 0 : 1;
}

/** The verdict and summary first; then the scenario; the timeline only when asked for. */
async function print(result: SimulationResult, timeline: { quiet: boolean } | null, json: string | undefined, verdict = true): Promise<void> {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  if (verdict) {
    out(formatVerdict(result));
    out('');
  }
  out(formatSummary(result));
  out('');
  out(`Scenario: ${JSON.stringify(result.scenario)}`);
  if (json !== undefined) {
    await writeFile(json, `${JSON.stringify(result.trace)}\n`);
    out(`Trace written to ${json}.`);
  }
  if (timeline === null) {
    out('(--timeline prints the timeline, --full every entry of it.)');
    return;
  }
  out('');
  out(`Timeline${timeline.quiet ? ' (quiet)' : ''}:`);
  out(result.timeline(timeline));
}

async function chooseScenario(
  values: { seed?: string | undefined; faults?: string | undefined; duration?: string | undefined; scenario?: string | undefined },
  shape: keyof typeof SCENARIO_SHAPES,
  seed: number | undefined,
  members: number | undefined,
): Promise<Scenario> {
  let scenario: Scenario;
  if (values.scenario !== undefined) {
    const parsed = JSON.parse(await readFile(values.scenario, 'utf8')) as Scenario | { scenario: Scenario };
    scenario = 'scenario' in parsed ? parsed.scenario : parsed;
  } else {
    if (seed === undefined) throw new Error('--seed is required (or --scenario)');
    const preset = values.faults !== undefined && Object.hasOwn(FAULT_MIXES, values.faults) ? FAULT_MIXES[values.faults as keyof typeof FAULT_MIXES] : null;
    scenario = scenarioFor(preset === null ? shape : { ...SCENARIO_SHAPES[shape], mix: preset }, seed, members);
    if (values.faults !== undefined && preset === null) {
      const faults = JSON.parse(await readFile(values.faults, 'utf8')) as Fault[];
      if (!Array.isArray(faults)) throw new Error(`${values.faults} must hold a JSON array of faults`);
      scenario = { ...scenario, faults };
    }
  }
  if (values.duration !== undefined) {
    const seconds = Number(values.duration);
    if (!(seconds > 0)) throw new Error('--duration must be a positive number of seconds');
    scenario = { ...scenario, durationMs: seconds * 1000 };
  }
  return scenario;
}
