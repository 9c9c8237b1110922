/**
 * Runs the application health check of the settings (docs/design.md rule 10) for a node: restarts it when its
 * settings change, and sends each result to the machine.
 */
import { ApplicationHealthChecker } from './applicationHealthChecker.js';
import { probeFromSettings, type ApplicationHealthProbe } from './applicationHealthProbe.js';
import type { NodeCore } from './nodeCore.js';

/** The node's application health checker: at most one runs, with the settings in force. */
export class HealthCheckRunner {
  readonly #core: NodeCore;
  /** A probe to run instead of the settings' command or URL (the simulator's). */
  readonly #probe: ApplicationHealthProbe | undefined;
  #checker: ApplicationHealthChecker | null = null;
  #settingsKey = 'null';

  constructor(core: NodeCore, probe: ApplicationHealthProbe | undefined) {
    this.#core = core;
    this.#probe = probe;
  }

  /**
   * (Re)starts the checker when its settings changed (or at start, `starting`): the machine's verdict starts again
   * from `unknown`, or null when no check is configured.
   *
   * @example
   * runner.configure(true); // after actor.start()
   */
  configure(starting: boolean): void {
    const core = this.#core;
    const health = core.settings.applicationHealth;
    const key = JSON.stringify(health);
    if (!starting && key === this.#settingsKey) return;
    this.#settingsKey = key;
    this.stop();
    const probe = health === null ? null : (this.#probe ?? probeFromSettings(health));
    core.send({ type: 'APPLICATION_HEALTH_CONFIGURED', checked: probe !== null, failuresToFail: health?.failures ?? 1 });
    if (health === null || probe === null) return;
    const checker = new ApplicationHealthChecker({
      probe,
      clock: core.clock,
      intervalMs: health.intervalMs,
      timeoutMs: health.timeoutMs,
      logger: core.logger.child({ component: 'application-health' }),
      report: (result, at) => {
        if (this.#checker === checker && core.actor !== null) core.actor.send({ type: 'APPLICATION_HEALTH_CHECKED', healthy: result.healthy, at });
      },
    });
    this.#checker = checker;
    core.logger.info({ check: probe.description, intervalMs: health.intervalMs, timeoutMs: health.timeoutMs, failures: health.failures }, 'application health check started');
    checker.start();
  }

  /** Stops the checker running now, if any. */
  stop(): void {
    this.#checker?.stop();
    this.#checker = null;
  }
}
