import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../../workflows/', import.meta.url));

/** Top-level `let`/`var` declarations and top-level `const` arrays, maps or sets: state shared by every handler. */
function moduleLevelState(text: string): string[] {
  return text
    .split('\n')
    .filter(
      (line) =>
        /^(export\s+)?(let|var)\s/.test(line) || /^(export\s+)?const\s+\w+(:[^=]+)?=\s*(\[|new (Map|Set))/.test(line),
    );
}

describe('workflow state', () => {
  it('the check finds module-level state (it can fail)', () => {
    expect(moduleLevelState('let notified = 0;\nconst pending: Promise<unknown>[] = [];\nconst x = 1;')).toEqual([
      'let notified = 0;',
      'const pending: Promise<unknown>[] = [];',
    ]);
  });

  it('lives in the Rollout object: no module in workflows/ keeps mutable state of its own', () => {
    const found = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => moduleLevelState(readFileSync(dir + f, 'utf8')).map((line) => `${f}: ${line}`));
    expect(found).toEqual([]);
  });
});
