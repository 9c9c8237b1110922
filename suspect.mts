// One-off measurement (not committed): PRIMARY_SUSPECTED and role changes in a healthy real group at 0.1/0.1/0.5.
import { startCluster } from './test/support/processes.ts';
const seconds = Number(process.argv[2] ?? 120);
const cluster = await startCluster('embedded', { heartbeat: 0.1, check: 0.1, absence: 0.5 }, { form: true });
const start = Date.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const count = (node: any, id: string) => node.processes.flatMap((p: any) => p.logs).filter((l: any) => l.event?.eventId === id).length;
for (const node of [cluster.a, cluster.b]) {
  console.log(node.id, 'PRIMARY_SUSPECTED', count(node, 'PRIMARY_SUSPECTED'), 'NODE_ROLE_CHANGED', count(node, 'NODE_ROLE_CHANGED'), 'LEASE_LOST', count(node, 'LEASE_LOST'), 'TAKEOVER_STARTED', count(node, 'TAKEOVER_STARTED'));
}
console.log('seconds', (Date.now() - start) / 1000);
await cluster.stop();
process.exit(0);
