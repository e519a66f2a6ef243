import fc from 'fast-check';
import { validateSpec } from '../src/spec/load.ts';
import { malformedSpec, baseSpec } from '../test/reliability/spec-arbitraries.ts';
console.log('base ok', validateSpec(baseSpec('flag-x')).ok);
const under = (p: string, at: string) => p === at || p.startsWith(at + '.') || p.startsWith(at + '[');
const seen = new Map<string, number>();
const fams = new Map<string, number>();
for (const m of fc.sample(malformedSpec('flag-x'), 20000)) {
  fams.set(m.family, (fams.get(m.family) ?? 0) + 1);
  const r = validateSpec(m.spec);
  if (r.ok) { console.log('ACCEPTED', m.family, m.at, JSON.stringify(m.spec).slice(0, 300)); continue; }
  const hit = r.issues.some((i) => under(i.path, m.at) && (!m.mentions || i.message.includes(m.mentions)));
  const root = r.issues.some((i) => i.path === '(root)') && m.at !== '(root)';
  if (!hit || root) {
    const key = `${m.family} @${m.at} -> ${r.issues.map((i) => i.path + ': ' + i.message.slice(0, 60)).join(' | ')}`;
    const k2 = `${m.family} @${m.at} -> ${r.issues.map((i) => i.path).join(',')}`;
    if (!seen.has(k2)) console.log(key);
    seen.set(k2, (seen.get(k2) ?? 0) + 1);
  }
  if (m.secret && r.issues.some((i) => i.message.includes(m.secret!))) console.log('SECRET ECHO', m.secret);
}
console.log(fams);
