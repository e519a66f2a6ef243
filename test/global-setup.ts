import type { TestProject } from 'vitest/node';
import { resolveTemporalCli } from '../src/temporal/cli-provision.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { freePort } from '../src/util/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    temporalCliPath: string;
  }
}

let server: DevServer | undefined;

/** Starts ONE real Temporal dev server (in memory, headless) for the whole run and provides its address. */
export async function setup(project: TestProject): Promise<void> {
  const log = (m: string) => process.stderr.write(`[temporal] ${m}\n`);
  const cli = await resolveTemporalCli({ log });
  log(`Temporal CLI v${cli.version} from ${cli.source}: ${cli.path}`);
  server = await startDevServer({
    cliPath: cli.path,
    port: await freePort(),
    uiPort: false,
    dbFile: null,
    reuseExisting: false,
    log,
  });
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
  project.provide('temporalCliPath', cli.path);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
