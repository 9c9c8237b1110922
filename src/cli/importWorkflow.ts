import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkflowLoadError } from '../api/errors.js';

/**
 * Imports the workflow module of `agctl start --workflow <module>`: a path, relative to the working directory, of
 * an ES module (`.js`/`.mjs`, or anything the running Node can import). `agctl start` calls it once the node is
 * created and made the default node, before the node starts, so that `subscribe()` calls the module makes while it
 * is imported see every event from the first `NODE_ROLE_CHANGED` (`previous: null`) on. Rejects with
 * `WorkflowLoadError` naming the module when it cannot be found or throws while imported.
 *
 * @example
 * await importWorkflow('./workflow.js');
 */
export async function importWorkflow(module: string): Promise<void> {
  try {
    await import(pathToFileURL(resolve(process.cwd(), module)).href);
  } catch (error) {
    throw new WorkflowLoadError(module, error);
  }
}
