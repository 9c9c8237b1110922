import { OptionalDependencyMissingError } from './errors.js';

/**
 * Whether `error` is Node's "module not found" for `packageName` itself (not for something that package imports).
 */
function isMissingPackage(error: unknown, packageName: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && (message.includes(`'${packageName}'`) || message.includes(`'${packageName}/`));
}

/**
 * Loads an optional peer dependency only when a feature needs it, and turns "module not found" into an
 * {@link OptionalDependencyMissingError} that names the package and how to install it. Any other failure (a broken
 * install, an error inside the package) is passed on unchanged.
 *
 * @example
 * const { default: ELK } = await importOptional('elkjs', 'laying out the statechart', () => import('elkjs/lib/elk.bundled.js'));
 */
export async function importOptional<T>(packageName: string, feature: string, load: () => Promise<T>, install?: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, packageName)) {
      throw new OptionalDependencyMissingError(packageName, feature, { cause: error, ...(install === undefined ? {} : { install }) });
    }
    throw error;
  }
}
