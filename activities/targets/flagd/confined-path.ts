import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { TargetError } from '../port.js';

/** A flag file resolved inside the worker's base directory. */
export interface ConfinedFile {
  /** Where to read and write: every symlink on the way resolved, so this is the path the check approved. */
  real: string;
  /** The spec's path, normalized, for messages: relative, so errors do not describe the worker's filesystem. */
  shown: string;
}

/**
 * Resolves `relative` under `root` and refuses (`REFUSED`, non-retryable) anything that lands outside it: an
 * absolute path, a `..` segment, or a symlink, in the file or any existing directory above it, that points out.
 * The real path of the nearest existing ancestor is what counts, so a file not created yet is checked too.
 *
 * The check and the later I/O are separate calls: someone who can already write inside `root` could swap a
 * directory for a symlink in between. Callers narrow that by using `real` and not following a final symlink.
 */
export async function confine(root: string, relative: string): Promise<ConfinedFile> {
  const shown = path.normalize(relative);
  if (relative.includes('\0') || path.isAbsolute(relative) || relative.split(/[\\/]/).includes('..')) {
    throw refused(`flag file path must be relative to the base directory, without ".." segments`);
  }
  const realRoot = await realpath(root).catch((err: unknown) => {
    throw new TargetError(`the worker's base directory is not accessible (${errnoOf(err)})`, 'UNAVAILABLE', true);
  });
  const lexical = path.resolve(realRoot, relative);
  if (!isUnder(realRoot, lexical)) throw refused(`flag file ${shown} is not under the base directory`);

  const missing: string[] = [];
  let ancestor = lexical;
  let realAncestor: string | undefined;
  while (realAncestor === undefined) {
    try {
      realAncestor = await realpath(ancestor);
    } catch (err) {
      const code = errnoOf(err);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || ancestor === realRoot) {
        throw new TargetError(`cannot resolve flag file ${shown} (${code})`, 'UNAVAILABLE', true);
      }
      // A dangling link has no real path to check, and writing through it would create its target, wherever that is.
      if (await isSymlink(ancestor)) {
        throw refused(`flag file ${shown} goes through a symbolic link to something that does not exist`);
      }
      missing.unshift(path.basename(ancestor));
      ancestor = path.dirname(ancestor);
    }
  }
  const real = path.join(realAncestor, ...missing);
  if (!isUnder(realRoot, real)) {
    throw refused(`flag file ${shown} resolves outside the base directory through a symbolic link`);
  }
  return { real, shown };
}

const isSymlink = (p: string): Promise<boolean> =>
  lstat(p).then(
    (s) => s.isSymbolicLink(),
    () => false,
  );

/** Strictly below `dir`: the base directory itself is not a file either. */
function isUnder(dir: string, candidate: string): boolean {
  const rel = path.relative(dir, candidate);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function refused(message: string): TargetError {
  return new TargetError(`${message}; the target refuses it`, 'REFUSED', false);
}

/** The errno code only: Node's messages carry the absolute path, which is the worker's business. */
const errnoOf = (err: unknown): string => (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
