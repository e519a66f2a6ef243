import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The import graph, read from the sources: runtime imports only (`import type` and all-type named imports are
 * erased by the compiler and cannot form a cycle at run time).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE_DIRS = ['src', 'workflows', 'activities'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'([^']+)'/g;

/** Runtime imports of one file, as repository-relative paths of `.ts` files. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const [, , typeOnly, clause = '', spec = ''] = m;
    if (typeOnly || !spec.startsWith('.')) continue;
    const named = /^\{([^}]*)\}$/.exec(clause.trim());
    if (
      named &&
      named[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((n) => n.startsWith('type '))
    )
      continue;
    out.push(relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

function graph(): Map<string, string[]> {
  const files = SOURCE_DIRS.flatMap((d) => sourceFiles(d));
  return new Map(files.map((f) => [f, runtimeImports(f)]));
}

/** Every cycle found by a depth-first search, each as a path of files. */
function cycles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const next of g.get(f) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next) && g.has(next)) visit(next);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of g.keys()) if (!state.has(f)) visit(f);
  return found;
}

/** Imports from files under `from` into files under any of `to`. */
function arrows(g: Map<string, string[]>, from: string, to: string[]): string[] {
  return [...g].flatMap(([f, deps]) =>
    f.startsWith(from) ? deps.filter((d) => to.some((t) => d.startsWith(t))).map((d) => `${f} → ${d}`) : [],
  );
}

describe('import graph', () => {
  const g = graph();

  it('reads the real graph (the check can fail)', () => {
    expect(g.size).toBeGreaterThan(100);
    expect(g.get('workflows/progressive-rollout.ts')).toContain('workflows/rollout.ts');
    expect(
      cycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', ['a.ts']],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  });

  it('has no cycles', () => {
    expect(cycles(g).map((c) => c.join(' → '))).toEqual([]);
  });

  it('keeps the domain and the analysis pure: they import only each other and src/util', () => {
    const outside = ['src/', 'workflows/', 'activities/'];
    const allowed = (d: string) => ['src/domain/', 'src/analysis/', 'src/util/'].some((p) => d.startsWith(p));
    for (const from of ['src/domain/', 'src/analysis/']) {
      expect(arrows(g, from, outside).filter((a) => !allowed(a.split(' → ')[1]!))).toEqual([]);
    }
  });

  it('has no upward arrows between the layers', () => {
    expect(arrows(g, 'src/demo/', ['src/cli/', 'src/api/'])).toEqual([]);
    expect(arrows(g, 'src/worker/', ['src/dev/', 'src/cli/', 'src/demo/', 'src/api/'])).toEqual([]);
    expect(arrows(g, 'src/client/', ['src/cli/', 'src/demo/', 'src/dev/', 'src/api/', 'src/worker/'])).toEqual([]);
    expect(
      arrows(g, 'workflows/', ['activities/', 'src/cli/', 'src/client/', 'src/api/', 'src/worker/', 'src/demo/']),
    ).toEqual([]);
    expect(arrows(g, 'activities/', ['src/cli/', 'src/demo/', 'src/dev/', 'src/api/', 'workflows/'])).toEqual([]);
  });

  it('keeps the catalog checks (zod at run time) out of every module workflow code reaches', () => {
    const reached = new Set<string>();
    const visit = (f: string) => {
      if (reached.has(f)) return;
      reached.add(f);
      for (const d of g.get(f) ?? []) visit(d);
    };
    for (const f of g.keys()) if (f.startsWith('workflows/') && f !== 'workflows/legacy-spec-check.ts') visit(f);
    expect(reached.has('workflows/rollout.ts')).toBe(true);
    expect(
      [...reached].filter((f) => /^src\/domain\/(catalog|resolve)\.ts$/.test(f) || f.endsWith('.schema.ts')),
    ).toEqual([]);
  });

  it('lets only activities/index.ts and the adapters themselves reach into an adapter folder', () => {
    const deep = /^activities\/(targets|sources)\/[^/]+\//;
    const reaching = [...g].flatMap(([f, deps]) =>
      f.startsWith('activities/') ? [] : deps.filter((d) => deep.test(d)).map((d) => `${f} → ${d}`),
    );
    expect(reaching).toEqual([]);
  });
});
