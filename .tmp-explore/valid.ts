import fc from 'fast-check';
import { validateSpec } from '../src/spec/load.ts';
import { validSpec } from '../test/reliability/valid-spec-arbitrary.ts';
let bad = 0;
for (const s of fc.sample(validSpec, 5000)) {
  const r = validateSpec(s);
  if (!r.ok && bad++ < 10) console.log(JSON.stringify(r.issues), JSON.stringify(s).slice(0, 400));
}
console.log('bad', bad);
