import { spawn } from 'node:child_process';
import type { ApplicationHealthSettings } from './settings.js';

/** What one application health check found: passed or not, and a short description (the output, truncated). */
export interface ApplicationHealthResult {
  readonly healthy: boolean;
  readonly detail: string;
}

/**
 * The application health port: runs one check of this node's application. It must end soon after `signal` aborts
 * (the checker aborts it at `health_timeout`, and counts it failed then anyway). The real ones run `health_command`
 * or fetch `health_url`; the simulator provides its own.
 */
export interface ApplicationHealthProbe {
  /** What is checked, for the log (never a secret: a URL's user and password are left out). */
  readonly description: string;
  check(signal: AbortSignal): Promise<ApplicationHealthResult>;
}

/** How much of a failing check's output is kept for the log. */
export const HEALTH_OUTPUT_LIMIT = 1024;

/** `text` cut to {@link HEALTH_OUTPUT_LIMIT} characters, marked when cut. */
function truncateOutput(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= HEALTH_OUTPUT_LIMIT ? trimmed : `${trimmed.slice(0, HEALTH_OUTPUT_LIMIT)}… (truncated, ${trimmed.length} characters)`;
}

/**
 * A probe that runs `command` (program and arguments, no shell) in its own process group: healthy when it exits
 * with status 0. At abort the whole process group is killed (SIGKILL), so a hanging check leaves nothing behind.
 *
 * @example
 * const probe = commandProbe(['/usr/local/bin/check-app', '--quick']);
 * const { healthy, detail } = await probe.check(AbortSignal.timeout(1000));
 */
export function commandProbe(command: readonly string[]): ApplicationHealthProbe {
  const [program, ...args] = command;
  return {
    description: `command ${JSON.stringify(command)}`,
    check: (signal) =>
      new Promise<ApplicationHealthResult>((resolve) => {
        let output = '';
        let settled = false;
        const finish = (result: ApplicationHealthResult) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', kill);
          resolve(result);
        };
        const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        const collect = (chunk: Buffer) => {
          if (output.length < 4 * HEALTH_OUTPUT_LIMIT) output += chunk.toString('utf8');
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        function kill(): void {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
          finish({ healthy: false, detail: truncateOutput(`killed at the timeout; output: ${output}`) });
        }
        if (signal.aborted) kill();
        else signal.addEventListener('abort', kill, { once: true });
        child.on('error', (error) => finish({ healthy: false, detail: truncateOutput(`could not run: ${error.message}`) }));
        child.on('close', (code, killedBy) => {
          if (code === 0) finish({ healthy: true, detail: truncateOutput(output) });
          else finish({ healthy: false, detail: truncateOutput(`${code === null ? `killed by ${killedBy}` : `exit status ${code}`}; output: ${output}`) });
        });
      }),
  };
}

/**
 * A probe that fetches `url` (GET, no redirects followed): healthy on a 2xx answer.
 *
 * @example
 * const probe = urlProbe('http://127.0.0.1:8000/healthz');
 */
export function urlProbe(url: string): ApplicationHealthProbe {
  return {
    description: `url ${withoutCredentials(url)}`,
    async check(signal) {
      try {
        const response = await fetch(url, { signal, redirect: 'manual' });
        const healthy = response.status >= 200 && response.status < 300;
        if (healthy) {
          await response.body?.cancel();
          return { healthy, detail: `HTTP ${response.status}` };
        }
        const body = await response.text().catch(() => '');
        return { healthy, detail: truncateOutput(`HTTP ${response.status}: ${body}`) };
      } catch (error) {
        return { healthy: false, detail: truncateOutput(signal.aborted ? 'no answer before the timeout' : `request failed: ${(error as Error).message}`) };
      }
    },
  };
}

/** The probe the settings describe, or null when no check is configured. */
export function probeFromSettings(settings: ApplicationHealthSettings | null): ApplicationHealthProbe | null {
  if (settings === null) return null;
  if (settings.command !== undefined) return commandProbe(settings.command);
  if (settings.url !== undefined) return urlProbe(settings.url);
  return null;
}

/** A URL for the log: user and password left out. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
