import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveView } from '../../src/view/live-view.js';
import { VirtualTerminal, wrapRows } from '../helpers/virtual-terminal.js';

/** A frame like `rollout watch` draws, with a header longer than 80 columns. */
const frame = (phase: string, percent: number, guardValue: string): string[] => [
  `checkout-service-with-a-rather-long-name · rollout/checkout-service-with-a-rather-long-name · ${phase} · step 2/4`,
  `[████░░░░░░░░░░░░░░░░] ${String(percent).padStart(5)}%   window: 3s left`,
  ' ✔  1 exposure 1%, observe 5s',
  ' ▶  2 exposure 10%, observe 5s',
  `  canary-error-ratio ${guardValue.padStart(10)}  ≤ 0.05   Successful`,
];

describe('the live view on a terminal 80 columns wide', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('redraws a frame whose header wraps onto two rows without leaving a stale row behind', () => {
    const term = new VirtualTerminal(80, 24);
    const stream = term.stream();
    const writes: string[] = [];
    const view = createLiveView({ ...stream, write: (chunk: string) => (writes.push(chunk), stream.write(chunk)) });
    const first = frame('Observing', 10, '0.01');
    const second = frame('Progressing', 50, '0.02');
    expect(wrapRows(first, 80).length).toBe(first.length + 1); // the header takes two rows

    view.frame(first, 'first');
    expect(term.screen()).toEqual(wrapRows(first, 80));
    view.frame(second, 'second');

    // the second write erases every screen row of the first frame from the first one that changed (the header's
    // wrapped row) to its end, not one row per line
    const before = wrapRows(first, 80);
    const firstChanged = before.findIndex((row, i) => row !== wrapRows(second, 80)[i]);
    expect(firstChanged).toBe(1);
    const erased = writes[1]!.split('\x1b[2K').length - 1;
    expect(erased).toBeGreaterThanOrEqual(before.length - firstChanged);
    expect(term.screen()).toEqual(wrapRows(second, 80));
  });

  it('shows only the latest frame after many redraws, whichever lines change', () => {
    const term = new VirtualTerminal(80, 24);
    const view = createLiveView(term.stream());
    const frames = [
      frame('Observing', 1, '0'),
      frame('Observing', 1, '0.0123'),
      frame('Progressing', 10, '0.0123'),
      frame('Completed', 100, 'no data'),
    ];
    // a guard line that wraps, then is gone: the rows it took must not stay behind
    frames.splice(2, 0, [...frame('Observing', 1, '0.0123'), `rollback: ${'x'.repeat(150)}`]);
    for (const lines of frames) view.frame(lines, lines[0]!);

    expect(term.screen()).toEqual(wrapRows(frames[frames.length - 1]!, 80));
  });

  it('the emulator catches a redraw that counts lines: moving up one row per line leaves a header row behind', () => {
    const term = new VirtualTerminal(80, 24);
    let drawn = 0;
    for (const lines of [frame('Observing', 10, '0.01'), frame('Progressing', 50, '0.02')]) {
      term.write(`${drawn ? `\x1b[${drawn}A` : ''}\x1b[0J${lines.join('\n')}\n`);
      drawn = lines.length;
    }
    // it went up 5 rows for a frame that took 6: the old header's first row stays above the new frame
    expect(term.screen()).toEqual([
      wrapRows(frame('Observing', 10, '0.01'), 80)[0],
      ...wrapRows(frame('Progressing', 50, '0.02'), 80),
    ]);
  });

  it('keeps a note above the frame and draws the frame again below it', () => {
    const term = new VirtualTerminal(80, 24);
    const view = createLiveView(term.stream());
    view.frame(frame('Observing', 1, '0'), 'a');
    view.note('--fault: step 1 reached (10%): the new variant is now slower and failing');
    view.frame(frame('RolledBack', 0, '0.17'), 'b');

    expect(term.screen()).toEqual([
      '--fault: step 1 reached (10%): the new variant is now slower and failing',
      ...wrapRows(frame('RolledBack', 0, '0.17'), 80),
    ]);
  });

  it('draws on a terminal that reports no size (0 × 0) at COLUMNS wide', () => {
    vi.stubEnv('COLUMNS', '100');
    const term = new VirtualTerminal(100, 24);
    const view = createLiveView({ ...term.stream(), columns: 0, rows: 0 });
    view.frame(frame('Observing', 10, '0.01'), 'a');
    view.frame(frame('Completed', 100, '0.01'), 'b');

    expect(term.screen()).toEqual(wrapRows(frame('Completed', 100, '0.01'), 100));
  });

  it('without a terminal, writes one plain timestamped line per changed summary and each note', () => {
    const written: string[] = [];
    const view = createLiveView({ isTTY: false, write: (chunk: string) => written.push(chunk) });
    view.frame(frame('Observing', 1, '0'), 'Observing step 1/4 exposure 1%');
    view.frame(frame('Observing', 1, '0.01'), 'Observing step 1/4 exposure 1%');
    view.note('started rollout/x');
    view.frame(frame('Completed', 100, '0'), 'Completed step 4/4 exposure 100%');

    expect(written.join('')).not.toContain('\x1b');
    expect(written.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'Observing step 1/4 exposure 1%\n',
      'started rollout/x\n',
      'Completed step 4/4 exposure 100%\n',
    ]);
  });
});
