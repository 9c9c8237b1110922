import { spawn } from 'node:child_process';
import { agctlInvocation } from '../../src/cli/agctlProcess.js';

/**
 * Runs `agctl` with `args` as a child process to its end, killed after `deadlineMs`; resolves with its exit code
 * and output (logs at info, so a test can read what the demo did).
 *
 * @example
 * const { code, stdout } = await runAgctl(['demo'], 60_000);
 */
export function runAgctl(args: readonly string[], deadlineMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { command, args: entry } = agctlInvocation();
  const child = spawn(command, [...entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AG_LOG_LEVEL: 'info' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr });
    });
  });
}
