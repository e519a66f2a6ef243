import fc from 'fast-check';
import { validateSpec, parseSpecText } from '../src/spec/load.ts';
import { malformedSpec, notAnObject } from '../test/reliability/spec-arbitraries.ts';
import { validSpec } from '../test/reliability/valid-spec-arbitrary.ts';
const under = (p: string, at: string) => p === at || p.startsWith(at + '.') || p.startsWith(at + '[');
let n = 0;
for (const m of fc.sample(fc.oneof(malformedSpec('flag-x'), notAnObject), 40000)) {
  for (const r of [validateSpec(m.spec), parseSpecText(JSON.stringify(m.spec))]) {
    if (r.ok) { console.log('ACCEPTED', m.family); continue; }
    const hit = r.issues.some((i) => under(i.path, m.at) && (!m.mentions || i.message.includes(m.mentions)));
    const root = r.issues.some((i) => i.path === '(root)') && m.at !== '(root)';
    if ((!hit || root) && n++ < 10) console.log(m.family, m.at, JSON.stringify(r.issues));
  }
}
let v = 0;
for (const s of fc.sample(validSpec, 20000)) { const a = validateSpec(s), b = parseSpecText(JSON.stringify(s)); if ((!a.ok || !b.ok) && v++ < 5) console.log('VALID REJECTED', JSON.stringify(a.ok ? b : a).slice(0, 300)); }
console.log('done', n, v);
