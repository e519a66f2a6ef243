import fc from 'fast-check';
import { expect, it } from 'vitest';
import { parseSpecText, validateSpec } from '../../src/spec/load.js';
import { malformedSpec, type Malformed } from './spec-arbitraries.js';
import { validSpec } from './valid-spec-arbitrary.js';
const under = (path: string, at: string) => path === at || path.startsWith(`${at}.`) || path.startsWith(`${at}[`);
it('stress malformed', () => {
  const fams = new Map<string, number>();
  fc.assert(fc.property(malformedSpec('flag-x'), (m: Malformed) => {
    fams.set(m.family, (fams.get(m.family) ?? 0) + 1);
    const r = validateSpec(m.spec);
    const where = `${m.family} @ ${m.at} ${JSON.stringify(r.ok ? [] : r.issues)} ${JSON.stringify(m.spec).slice(0, 300)}`;
    expect(r.ok, where).toBe(false);
    if (r.ok) return;
    expect(r.issues.some((i) => under(i.path, m.at) && (m.mentions === undefined || i.message.includes(m.mentions))), where).toBe(true);
    for (const i of r.issues) { if (m.at !== '(root)') expect(i.path, where).not.toBe('(root)'); if (m.secret) expect(i.message, where).not.toContain(m.secret); }
    const t = parseSpecText(JSON.stringify(m.spec)); expect(t.ok).toBe(false);
  }), { numRuns: 30000 });
  console.log([...fams]);
}, 600_000);
it('stress valid', () => {
  fc.assert(fc.property(validSpec, (s) => { const r = validateSpec(s); expect(r.ok, JSON.stringify(r.ok ? [] : r.issues) + JSON.stringify(s).slice(0, 400)).toBe(true); }), { numRuns: 5000 });
}, 600_000);
