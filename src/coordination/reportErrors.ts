/**
 * Runs one call of an authority and hands its failure, if any, to `onError` before rejecting with it: how the
 * settings-built authorities (DNS, etcd, the coordination authority) let `/metrics` count errors without catching
 * them.
 *
 * @example
 * return reportErrors(() => client.read(fqdn), options.onError);
 */
export async function reportErrors<T>(call: () => Promise<T>, onError: ((error: unknown) => void) | undefined): Promise<T> {
  try {
    return await call();
  } catch (error) {
    onError?.(error);
    throw error;
  }
}
