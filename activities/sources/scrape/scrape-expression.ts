import { Duration } from '../../../src/domain/duration.schema.js';
import { toMs } from '../../../src/domain/time.js';
import { SourceError } from '../port.js';
import type { ExposedSample } from './text-format.js';

/**
 * The scrape source's expression form. It is NOT PromQL: four functions over label selectors, each summing every
 * series the selector matches into one value (there is no `by`, no arithmetic, no nesting).
 *
 * | expression                              | value                                                        |
 * | --------------------------------------- | ------------------------------------------------------------ |
 * | `value(sel)`                            | the sum of the matching samples now (gauges)                 |
 * | `increase(sel[range])`                  | how much the matching counters grew over the range           |
 * | `rate(sel[range])`                      | that growth per second                                       |
 * | `ratio(sel_a / sel_b [range])`          | increase(a) / increase(b), e.g. errors / requests, or a histogram's `_sum / _count` (a mean) |
 *
 * A selector is `metric_name{label="v", other!="x", code=~"5..", path!~"/health.*"}` (regexes are anchored, as in
 * Prometheus). `range` is a duration (`30s`, `5m`; `$window` is expanded by the guard before it gets here). The
 * growth is measured between two scrapes of the endpoint: the one taken now and the oldest remembered one inside
 * the range (reaching 1 s further back, since scrapes follow guard checks, not a clock), or, without a range, the
 * previous one (at least 1 s older). `rate` divides by the actual time between the two scrapes. A counter that went down was reset,
 * and its new value counts as growth; a series absent from the older scrape counts from 0 (counters start at 0).
 */
export type ScrapeExpression =
  | { fn: 'value'; selector: Selector }
  | { fn: 'increase' | 'rate'; selector: Selector; rangeMs?: number }
  | { fn: 'ratio'; numerator: Selector; denominator: Selector; rangeMs?: number };

export interface Selector {
  name: string;
  matchers: Matcher[];
}

interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  regex?: RegExp;
}

const FN = /^\s*(value|increase|rate|ratio)\s*\(([\s\S]*)\)\s*$/;
const NAME = /\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*/y;
const MATCHER = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|\})/y;
const RANGE = /^\s*\[\s*([^\]\s]+)\s*\]\s*$/;

/** Parses an expression; anything outside the form above is a BAD_QUERY that shows the accepted form. */
export function parseScrapeExpression(expression: string): ScrapeExpression {
  const bad = (why: string) =>
    new SourceError(
      `scrape source: cannot read ${JSON.stringify(expression)}: ${why}. ` +
        'Accepted (not PromQL): value(sel), increase(sel[30s]), rate(sel[30s]), ratio(sel / sel [30s]); sel = name{label="v",...}',
      'BAD_QUERY',
    );
  const m = FN.exec(expression);
  if (!m) throw bad('it must be one of the functions value, increase, rate or ratio');
  const fn = m[1] as ScrapeExpression['fn'];
  const first = readSelector(m[2]!, 0, bad);
  let rest = m[2]!.slice(first.end);
  if (fn === 'ratio') {
    if (!rest.trimStart().startsWith('/')) throw bad('ratio needs two selectors separated by "/"');
    const second = readSelector(rest, rest.indexOf('/') + 1, bad);
    rest = rest.slice(second.end);
    return { fn, numerator: first.selector, denominator: second.selector, ...readRange(rest, bad) };
  }
  const range = readRange(rest, bad);
  if (fn === 'value') {
    if (range.rangeMs !== undefined) throw bad('value() takes no range');
    return { fn, selector: first.selector };
  }
  return { fn, selector: first.selector, ...range };
}

function readSelector(text: string, from: number, bad: (why: string) => Error): { selector: Selector; end: number } {
  NAME.lastIndex = from;
  const name = NAME.exec(text);
  if (!name) throw bad(`expected a metric name at ${JSON.stringify(text.slice(from, from + 20))}`);
  const matchers: Matcher[] = [];
  let end = NAME.lastIndex;
  if (text[end] === '{') {
    let at = end + 1;
    for (;;) {
      // `{}` and a trailing comma before `}` are valid, as in PromQL
      const close = /^\s*\}/.exec(text.slice(at));
      if (close) {
        end = at + close[0].length;
        break;
      }
      MATCHER.lastIndex = at;
      const m = MATCHER.exec(text);
      if (!m) throw bad(`expected label="value" at ${JSON.stringify(text.slice(at, at + 20))}`);
      matchers.push(matcherOf(m[1]!, m[2] as Matcher['op'], m[3]!.replace(/\\(.)/g, '$1'), bad));
      at = MATCHER.lastIndex;
      if (m[4] === '}') {
        end = at;
        break;
      }
    }
  }
  return { selector: { name: name[1]!, matchers }, end };
}

function matcherOf(label: string, op: Matcher['op'], value: string, bad: (why: string) => Error): Matcher {
  if (op === '=' || op === '!=') return { label, op, value };
  try {
    return { label, op, value, regex: new RegExp(`^(?:${value})$`) };
  } catch (err) {
    throw bad(`invalid regex for ${label}: ${(err as Error).message}`);
  }
}

function readRange(rest: string, bad: (why: string) => Error): { rangeMs?: number } {
  if (rest.trim() === '') return {};
  const m = RANGE.exec(rest);
  if (!m) throw bad(`unexpected ${JSON.stringify(rest.trim().slice(0, 20))}`);
  if (!Duration.safeParse(m[1]).success) throw bad(`range ${JSON.stringify(m[1])} must be a duration like 30s or 5m`);
  return { rangeMs: toMs(m[1]!) };
}

/** True when the sample belongs to the selector (absent labels compare as ""; as in Prometheus). */
export function matches(selector: Selector, sample: ExposedSample): boolean {
  if (sample.name !== selector.name) return false;
  return selector.matchers.every((m) => {
    const actual = sample.labels[m.label] ?? '';
    switch (m.op) {
      case '=':
        return actual === m.value;
      case '!=':
        return actual !== m.value;
      case '=~':
        return m.regex!.test(actual);
      case '!~':
        return !m.regex!.test(actual);
    }
  });
}
