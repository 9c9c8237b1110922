/**
 * `npm run openapi`: writes docs/openapi.json from the OpenAPI document the node serves (src/http/openApiDocument.ts,
 * its settings generated from the zod settings schema). Run it after changing a route, a shape or a setting;
 * test/httpApi.test.ts fails until you do.
 */
import { writeFile } from 'node:fs/promises';
import { openApiDocument } from '../src/http/openApiDocument.js';

const file = new URL('../docs/openapi.json', import.meta.url);
const text = `${JSON.stringify(openApiDocument, null, 2)}\n`;
await writeFile(file, text);
console.log(`wrote docs/openapi.json (${text.length} bytes)`);
