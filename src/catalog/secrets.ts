import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { LoadedCatalog } from './load.js';

/** A secret that is not declared, not set, or cannot be read; the message names the secret, never a value. */
export class SecretError extends Error {
  override readonly name = 'SecretError';
}

/** Values shorter than this are not redacted from text: replacing every "a" would garble messages. */
const MIN_REDACTED = 4;
export const REDACTED = '[redacted]';

/**
 * The catalog's secrets, read when an activity calls out (so a rotated secret applies without a restart), and the
 * one redactor every activity error, result and log line passes through: each value ever read is replaced.
 */
export class SecretStore {
  private readonly seen = new Set<string>();
  constructor(
    private readonly loaded: LoadedCatalog,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The secret's current value; throws a {@link SecretError} when it is undeclared, unset or unreadable. */
  async get(name: string): Promise<string> {
    const source = Object.hasOwn(this.loaded.catalog.secrets, name) ? this.loaded.catalog.secrets[name] : undefined;
    if (!source) throw new SecretError(`secret "${name}" is not declared in the catalog`);
    let value: string | undefined;
    if ('env' in source) {
      value = this.env[source.env]?.trim();
      if (!value) throw new SecretError(`secret "${name}" is not set (environment variable ${source.env})`);
    } else {
      const file = isAbsolute(source.file) ? source.file : resolve(this.loaded.dir, source.file);
      value = (
        await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new SecretError(`secret "${name}" cannot be read from its file (${err.code ?? 'error'})`);
        })
      ).trim();
      if (!value) throw new SecretError(`secret "${name}" is empty (its file holds nothing)`);
    }
    this.remember(value);
    return value;
  }

  /** Reads every declared secret once, so redaction knows their values before any is used; unset ones are skipped. */
  async preload(): Promise<void> {
    await Promise.all(Object.keys(this.loaded.catalog.secrets).map((name) => this.get(name).catch(() => undefined)));
  }

  private remember(value: string): void {
    if (value.length >= MIN_REDACTED) this.seen.add(value);
  }

  /** `text` with every secret value read so far replaced by `[redacted]`. */
  redact(text: string): string {
    let out = text;
    for (const value of this.seen) if (out.includes(value)) out = out.split(value).join(REDACTED);
    return out;
  }

  /** A JSON value with every string in it redacted. */
  redactValue<T>(value: T): T {
    if (this.seen.size === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redact(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = walk(x);
        return out;
      }
      return v;
    };
    return walk(value) as T;
  }
}
