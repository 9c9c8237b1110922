/**
 * Live inspection with `@statelyai/inspect` (the XState 5 inspector protocol over WebSocket): off by default, on
 * with the setting `inspect: true` or the environment variable `AG_INSPECT` (its value is the inspector's
 * WebSocket URL). The node plugs it into its actor's `inspect` option.
 */
import type { InspectionEvent } from 'xstate';
import { LiveInspectionError } from '../api/errors.js';
import { importOptional } from '../api/importOptional.js';

/** The environment variable that switches live inspection on and names the inspector's URL. */
export const INSPECT_ENV = 'AG_INSPECT';

/** Where `inspect: true` sends events when `AG_INSPECT` names no URL: `@statelyai/inspect/server`'s default port. */
export const DEFAULT_INSPECT_URL = 'ws://127.0.0.1:8080';

/** `AG_INSPECT` holds something that is not a WebSocket URL (defined in the error catalogue). */
export { LiveInspectionError };

/** A running live inspection. */
export interface LiveInspection {
  readonly url: string;
  /** The observer for the actor's `inspect` option. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Closes the connection. */
  stop(): void;
}

/**
 * Where live inspection should send events, or null when it is off: `AG_INSPECT` wins (`1`/`true` mean the default
 * URL, `0`/`false`/empty mean off); otherwise the setting `inspect` switches it on at {@link DEFAULT_INSPECT_URL}.
 * Throws {@link LiveInspectionError} for any other value of the variable.
 *
 * @example
 * liveInspectionUrl({ inspect: false }, { AG_INSPECT: 'ws://127.0.0.1:9000' }) // 'ws://127.0.0.1:9000'
 */
export function liveInspectionUrl(settings: { readonly inspect: boolean }, env: Readonly<Record<string, string | undefined>> = process.env): string | null {
  const value = env[INSPECT_ENV]?.trim();
  if (value === undefined) return settings.inspect ? DEFAULT_INSPECT_URL : null;
  if (['', '0', 'false', 'off'].includes(value.toLowerCase())) return null;
  if (['1', 'true', 'on'].includes(value.toLowerCase())) return DEFAULT_INSPECT_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new LiveInspectionError(value);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new LiveInspectionError(value);
  return value;
}

/**
 * Connects a `@statelyai/inspect` WebSocket inspector to `url` (loaded only now, so nodes without inspection never
 * load it; it is an optional peer dependency, and without it this throws OptionalDependencyMissingError naming it).
 * Events before the connection opens are held (up to 200, the library's default). The library's client reconnects
 * every 5 s while the inspector is unreachable, until the process ends: use it while you watch.
 *
 * @example
 * const live = await startLiveInspection('ws://127.0.0.1:8080');
 * const actor = createActor(machine, { inspect: live.inspect });
 */
export async function startLiveInspection(url: string): Promise<LiveInspection> {
  const { createWebSocketInspector } = await importOptional('@statelyai/inspect', 'Live inspection (the setting inspect, AG_INSPECT)', () => import('@statelyai/inspect'));
  const inspector = createWebSocketInspector({ url });
  return {
    url,
    inspect: (event) => inspector.inspect.next?.(event),
    stop: () => inspector.stop(),
  };
}
