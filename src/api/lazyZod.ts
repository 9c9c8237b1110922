/**
 * zod, loaded on first use instead of at import: building zod and the project's schemas costs about half of the
 * package's cold import, and most importers (a workflow reading `getNodeState`) never validate anything. Every zod
 * user in the package goes through this module (type-only `import type { z } from 'zod'` elsewhere), so only one
 * copy of zod, its CommonJS build, is ever loaded, and only when a schema is first needed.
 */
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';

/** The zod namespace (`z`), as `import { z } from 'zod'` gives it. */
export type ZodNamespace = typeof Zod;

let loaded: ZodNamespace | undefined;

/**
 * The zod namespace, loaded synchronously on the first call (CommonJS `require`), the same object afterwards.
 *
 * @example
 * zod().string().min(1).safeParse('x').success // true
 */
export function zod(): ZodNamespace {
  loaded ??= (createRequire(import.meta.url)('zod') as { z: ZodNamespace }).z;
  return loaded;
}

/**
 * A memoized schema builder: `build` runs with zod on the first call (which loads zod), later calls return the same
 * schema.
 *
 * @example
 * const nameSchema = lazySchema((z) => z.string().min(1));
 * nameSchema().safeParse('') // { success: false, ... }
 */
export function lazySchema<Schema>(build: (z: ZodNamespace) => Schema): () => Schema {
  let schema: Schema | undefined;
  let built = false;
  return () => {
    if (!built) {
      schema = build(zod());
      built = true;
    }
    return schema as Schema;
  };
}
