import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Where the SDKs download the Temporal CLI from; `TEMPORAL_DOWNLOAD_BASE` points at a mirror. */
export const DEFAULT_DOWNLOAD_BASE = 'https://temporal.download';
/** The archive is about 50 MB; anything far larger is not the CLI. */
const MAX_ARCHIVE_BYTES = 300 * 1024 * 1024;

export interface CliDownload {
  version: string;
  /** Base URL of the download service. */
  base: string;
  /** Where to write `temporal`: on the cache's file system, so it can be renamed into place atomically. */
  into: string;
  /** Bound on asking where the archive is: what a machine without network waits before moving on. */
  lookupTimeoutMs: number;
  /** Bound on downloading and unpacking the archive. */
  downloadTimeoutMs: number;
  platform?: NodeJS.Platform;
  arch?: string;
}

/**
 * The download the Temporal SDKs use for their dev server (`temporal.download/cli/<version>`, answered with the
 * release archive's URL and the file in it), done here into our own cache. Returns the unpacked binary's path;
 * throws an Error whose message is one line saying why.
 */
export async function downloadTemporalCli(d: CliDownload): Promise<string> {
  const platform = { linux: 'linux', darwin: 'darwin' }[(d.platform ?? process.platform) as string];
  const arch = { x64: 'amd64', arm64: 'arm64' }[d.arch ?? process.arch];
  if (!platform || !arch)
    throw new Error(`no download for ${d.platform ?? process.platform}-${d.arch ?? process.arch}`);
  const lookup = new URL(`cli/v${d.version}`, d.base.endsWith('/') ? d.base : `${d.base}/`);
  lookup.search = new URLSearchParams({ arch, platform, format: 'tar.gz' }).toString();
  const info = (await get(lookup, d.lookupTimeoutMs, 'looking up the archive')
    .then((r) => r.json())
    .catch(rethrow('looking up the archive'))) as { archiveUrl?: unknown; fileToExtract?: unknown };
  const { archiveUrl, fileToExtract } = info;
  if (typeof archiveUrl !== 'string' || typeof fileToExtract !== 'string')
    throw new Error('the lookup answered without archiveUrl and fileToExtract');
  const archive = new URL(archiveUrl, lookup);
  if (archive.protocol !== 'https:' && archive.origin !== lookup.origin)
    throw new Error(`the archive URL is not https: ${archive.origin}`);
  // one plain name inside the archive: nothing the answer says may point outside the staging directory
  if (!/^[\w.-]+$/.test(fileToExtract) || fileToExtract.startsWith('.'))
    throw new Error(`unexpected file to extract: ${JSON.stringify(fileToExtract.slice(0, 60))}`);

  const deadline = Date.now() + d.downloadTimeoutMs;
  const tmp = await mkdtemp(join(tmpdir(), 'temporal-download-'));
  try {
    const res = await get(archive, d.downloadTimeoutMs, 'downloading the archive');
    const bytes = Buffer.from(await res.arrayBuffer().catch(rethrow('downloading the archive')));
    if (bytes.length > MAX_ARCHIVE_BYTES) throw new Error(`the archive is ${bytes.length} bytes, more than expected`);
    const file = join(tmp, 'cli.tar.gz');
    await writeFile(file, bytes);
    const left = Math.max(1_000, deadline - Date.now());
    await execFileAsync('tar', ['-xzf', file, '-C', tmp, fileToExtract], { timeout: left }).catch(
      rethrow('unpacking the archive'),
    );
    const binary = join(d.into, 'temporal');
    await copyFile(join(tmp, fileToExtract), binary);
    await chmod(binary, 0o755);
    return binary;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function get(url: URL, timeoutMs: number, what: string): Promise<Response> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' }).catch(rethrow(what));
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} from ${url.host}`);
  return res;
}

/** One line: what failed and the deepest cause the runtime gives (DNS, refused, timed out). */
function rethrow(what: string): (err: unknown) => never {
  return (err: unknown) => {
    const e = err as Error & { cause?: Error & { code?: string } };
    if (e.message.startsWith(what)) throw e;
    const cause =
      e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.cause?.message ?? e.message).split('\n')[0];
    throw new Error(`${what}: ${cause}`);
  };
}
