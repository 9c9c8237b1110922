/**
 * `npm run chaos -- [--minutes M] [--coordination dns|etcd] [--dns embedded|bind] [--members N] [--timings 0.1/0.1/0.5] [--seed S] [--min-rounds N] [--out DIR]` (`--help`: the usage):
 * the fault suite on real processes (suite.ts). Prints progress, then the table per fault kind; exits 1 on any safety
 * violation (two acting, two announced, a broken chain or another announcement rule, a crash), printing the seed and
 * a log excerpt around each; 2 on a bad argument; 3 when the suite itself failed (what ran is still analysed); 130 on Ctrl-C (after recovering the fault in progress and printing
 * the table of what ran). Logs are saved under the printed directory.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { bindUnavailableReason } from '../support/bind.js';
import { etcdUnavailableReason } from '../support/etcdCluster.js';
import { checkMembers, parseTimings, runChaos } from './suite.js';

let values: Record<string, string | undefined>;
let help = false;
try {
  const { help: helpFlag, ...rest } = parseArgs({
    args: process.argv.slice(2),
    options: {
      minutes: { type: 'string', default: '10' },
      coordination: { type: 'string', default: 'dns' },
      dns: { type: 'string' },
      members: { type: 'string', default: '2' },
      timings: { type: 'string', default: '0.1/0.1/0.5' },
      seed: { type: 'string' },
      'min-rounds': { type: 'string', default: '1' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
  help = helpFlag === true;
  values = rest;
} catch (error) {
  console.error(`chaos: ${(error as Error).message} (see --help)`);
  process.exit(2);
}
if (help) {
  console.log(`Usage: npm run chaos -- [--minutes M] [--coordination dns|etcd] [--dns embedded|bind] [--members N]
                        [--timings H/C/A] [--seed S] [--min-rounds N] [--out DIR]

The fault suite on real processes: the group's authority (a DNS server, or a three-member etcd cluster) and two
agctl start processes on 127.0.0.2 and 127.0.0.3 (with etcd and --members N, N of them: c on 127.0.0.4 ...),
faults from a seeded schedule, then a table per fault kind (docs/testing.md, "Fault suite on real processes").

  --minutes M       how long to inject faults (default 10)
  --coordination C  dns (default): the group's records on a DNS server, whose faults are SIGSTOP of the server;
                    etcd: coordination etcd on a three-member etcd cluster on 127.0.0.1 (no DNS server), whose
                    faults are SIGSTOP of one member, of a majority (no quorum), kill -9 of one member, and a
                    majority paused as a takeover begins (needs etcd and etcdctl installed)
  --dns KIND        with coordination dns: embedded (agctl dns-server, default) or bind (BIND 9 named)
  --members N       node processes in the group: 2 (the default); with --coordination etcd 2 to 7 (a creates
                    the group, the others join through the Primary; node faults pick among all nodes, the
                    checker polls all of them). DNS groups have two members: dns refuses any other N
  --timings H/C/A   heartbeat / standby check / failover period in seconds (default 0.1/0.1/0.5)
  --seed S          the schedule's seed (default: random, printed)
  --min-rounds N    at least N whole rounds of every fault kind (default 1)
  --out DIR         where the logs and the report go (default: printed, under the temp dir)

Exit codes: 0 no safety violation, 1 a violation (seed and log excerpt printed), 2 a bad argument, 3 the suite
itself failed, 130 Ctrl-C.`);
  process.exit(0);
}

const coordination = values.coordination;
if (coordination !== 'dns' && coordination !== 'etcd') {
  console.error(`chaos: --coordination must be dns or etcd (got ${coordination})`);
  process.exit(2);
}
if (coordination === 'etcd' && values.dns !== undefined) {
  console.error('chaos: --dns applies to --coordination dns only (with etcd the group runs no DNS server)');
  process.exit(2);
}
if (coordination === 'etcd' && etcdUnavailableReason() !== null) {
  console.error(`chaos: ${etcdUnavailableReason()}`);
  process.exit(2);
}
const dns = values.dns ?? 'embedded';
if (dns !== 'embedded' && dns !== 'bind') {
  console.error(`chaos: --dns must be embedded or bind (got ${dns})`);
  process.exit(2);
}
if (dns === 'bind' && bindUnavailableReason() !== null) {
  console.error(`chaos: ${bindUnavailableReason()}`);
  process.exit(2);
}
const members = Number(values.members);
try {
  if (!/^\d+$/.test(values.members!)) throw new Error(`--members must be a whole number (got ${values.members})`);
  checkMembers(coordination, members);
} catch (error) {
  console.error(`chaos: --${(error as Error).message.replace(/^--/, '')}`);
  process.exit(2);
}
let timers;
try {
  timers = parseTimings(values.timings!);
} catch (error) {
  console.error(`chaos: ${(error as Error).message}`);
  process.exit(2);
}
const minutes = Number(values.minutes);
const minRounds = Number(values['min-rounds']);
const seed = values.seed === undefined ? randomInt(0, 2 ** 31 - 1) : Number(values.seed);
if (!Number.isFinite(minutes) || minutes < 0 || !Number.isInteger(seed) || !Number.isInteger(minRounds) || minRounds < 0) {
  console.error('chaos: --minutes must be a number >= 0, --seed and --min-rounds whole numbers');
  process.exit(2);
}

const abort = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error('\nchaos: interrupted: recovering the fault in progress, then the table (Ctrl-C again to quit at once)');
  abort.abort();
});

const started = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
log(`chaos: seed ${seed}, ${coordination === 'etcd' ? `etcd (3 members), ${members} nodes` : `DNS ${dns}`}, timers ${timers.heartbeat}/${timers.check}/${timers.absence} s, ${minutes} min (at least ${minRounds} round${minRounds === 1 ? '' : 's'} of every fault kind)`);
const result = await runChaos({ minutes, coordination, members, dns, timers, seed, minRounds, progress: log, signal: abort.signal, ...(values.out === undefined ? {} : { outDir: values.out }) });
console.log(`\n${result.text}`);
if (result.violationsText !== '') console.log(`\n${result.violationsText}`);
console.log(`\nlogs: ${result.outDir} (wall time ${(result.wallMs / 1000).toFixed(0)} s, seed ${seed})`);
if (result.failure !== undefined) console.error(`\nchaos: the suite itself failed (exit 3 unless a violation was found):\n${result.failure}`);
process.exitCode = interrupted ? 130 : result.report.violations.length > 0 ? 1 : result.failure !== undefined ? 3 : 0;
