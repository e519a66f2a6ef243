/**
 * The bench's workflow bundle entry: the production workflows, unchanged, plus the overhead baseline, so one
 * bundle (built once) serves every measurement and both sides of the overhead comparison.
 */
export * from '../workflows/index.js';
export * from './baseline-workflows.js';
