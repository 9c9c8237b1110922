// `node --import ./test/support/recordModules.mjs`: appends the URL of every module the ESM loader resolves, one a
// line, to the file named by AG_MODULE_LOG. CommonJS modules that `require` loads do not pass the ESM loader: read
// them from `require.cache` (test/importCost.test.ts does both).
import { register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) {
  file = data.file;
}
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(file, resolved.url + '\\n');
  return resolved;
}`;
const file = process.env.AG_MODULE_LOG;
if (file === undefined || file === '') throw new Error('recordModules.mjs: set AG_MODULE_LOG to the file that receives the module URLs');
register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { file } });
