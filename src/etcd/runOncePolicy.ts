import type { IOptions } from 'etcd3';

type FaultPolicy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

const noEvent = () => ({ dispose: () => undefined });

/**
 * The etcd3 fault policy that runs each call once: no retry (the caller decides which endpoint to try next, within
 * its one deadline) and no circuit breaker (etcd3's default breaker fails every call for seconds after one timeout,
 * even once etcd is back). Give it as both `faultHandling.global` and `faultHandling.host`.
 *
 * @example
 * new Etcd3({ hosts, faultHandling: { global: RUN_ONCE_POLICY, host: () => RUN_ONCE_POLICY } });
 */
export const RUN_ONCE_POLICY = {
  onSuccess: noEvent,
  onFailure: noEvent,
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: signal ?? new AbortController().signal })),
} as unknown as FaultPolicy;
