import { readFile } from 'node:fs/promises';

/** The package's version, read from its package.json (beside `dist/` when compiled, or beside the sources). */
export async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../../../package.json', import.meta.url), 'utf8').catch(() =>
    readFile(new URL('../../package.json', import.meta.url), 'utf8'),
  );
  return (JSON.parse(text) as { version: string }).version;
}
