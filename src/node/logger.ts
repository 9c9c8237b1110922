/** The logger lives in src/api/logger.ts (below every other folder: DNS, peer and net code log too); re-exported here for node code. */
export * from '../api/logger.js';
