/** The lazy zod loader lives in src/api/lazyZod.ts (peer code validates too); re-exported here for node code. */
export * from '../api/lazyZod.js';
