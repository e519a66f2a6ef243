export * from './progressive-rollout.js';
