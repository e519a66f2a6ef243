export * from './progressive-rollout.js';
export * from './rollout-drill.js';
