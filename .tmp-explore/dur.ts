import fc from 'fast-check';
import { Duration, toMs } from '../src/domain/duration.ts';
import { validSpec } from '../test/reliability/valid-spec-arbitrary.ts';
import { validateSpec } from '../src/spec/load.ts';
for (const s of fc.sample(validSpec, 5000)) {
  const r = validateSpec(s);
  if (!r.ok) { const p = r.issues[0]!.path; const v = p === 'analysis.extendBy' ? (s as any).analysis.extendBy : (s as any).steps[Number(p.match(/\d+/)![0])].observe; console.log(p, JSON.stringify(v), toMs(v)); }
}
