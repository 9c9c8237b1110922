import { Writable } from 'node:stream';
import { pino } from 'pino';

/** A pino logger at info level whose JSON lines are parsed and kept in `lines`. */
export function capturingLogger(): { logger: ReturnType<typeof pino>; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}
