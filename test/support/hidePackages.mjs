// `node --import ./test/support/hidePackages.mjs`: makes the packages named in AG_HIDE_PACKAGES (comma-separated)
// unresolvable, with Node's own error code and message, as if they were not installed. For the tests of what a
// user sees without an optional peer dependency.
import { register } from 'node:module';

const hidden = (process.env.AG_HIDE_PACKAGES ?? '').split(',').filter((name) => name !== '');
const hook = `
const hidden = ${JSON.stringify(hidden)};
export async function resolve(specifier, context, next) {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  if (hidden.includes(name)) {
    const error = new Error("Cannot find package '" + name + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
