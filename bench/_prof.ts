import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { performance } from 'node:perf_hooks';
import { loadHistories } from '../test/helpers/histories.js';
import { installRuntime } from '../src/worker/runtime.js';
import { createLogger } from '../src/logger.js';
installRuntime(createLogger({ level: 'error' }));
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const bundle = await bundleWorkflowCode({ workflowsPath: new URL('../workflows/index.ts', import.meta.url).pathname, logger: quiet });
const rs = await loadHistories(process.env.SET ?? 'v2');
const n = Number(process.env.N ?? 60);
const q = Array.from({ length: n }, (_, i) => rs[i % rs.length]!);
const t0 = performance.now(); let k = 0;
for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, debugMode: process.env.DEBUGMODE === "1" }, q)) { if (r.error) console.log(r.error.message); k++; }
console.log('ms/history', (performance.now() - t0) / k);
