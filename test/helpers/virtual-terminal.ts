// sticky, so a long output is matched where the escape starts, never copied
// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const CSI = /\x1b\[([?]?)([0-9;]*)([A-Za-z])/y;

/**
 * A small terminal emulator for tests: it applies what a live view writes (text that wraps at the width, line feeds,
 * cursor moves, erases) to a grid of cells, so a test can read the screen a person would see, stale rows included.
 * It knows the sequences our views and log-update write; every other escape sequence is ignored.
 */
export class VirtualTerminal {
  private readonly grid: string[][] = [];
  private row = 0;
  private col = 0;
  /** xterm's deferred wrap: a character in the last column leaves the cursor there until the next one arrives. */
  private pendingWrap = false;
  private bottom = 0;

  constructor(
    readonly columns: number,
    readonly rows = 1_000,
  ) {}

  /** A stream a live view can draw on: it writes into this terminal. */
  stream(isTTY = true): { isTTY: boolean; columns: number; rows: number; write(chunk: string): boolean } {
    return { isTTY, columns: this.columns, rows: this.rows, write: (chunk: string) => (this.write(chunk), true) };
  }

  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const char = text[i]!;
      if (char === '\x1b') {
        i = this.escape(text, i);
      } else if (char === '\n') {
        // a terminal's line discipline turns \n into \r\n (onlcr)
        this.moveTo(this.row + 1, 0);
      } else if (char === '\r') {
        this.moveTo(this.row, 0);
      } else {
        this.print(char);
      }
    }
  }

  /** The screen's rows, trailing blanks trimmed, trailing empty rows dropped. */
  screen(): string[] {
    const lines = Array.from({ length: this.bottom + 1 }, (_, r) => (this.grid[r] ?? []).join('').replace(/\s+$/, ''));
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    return lines;
  }

  private print(char: string): void {
    if (this.pendingWrap) this.moveTo(this.row + 1, 0);
    this.line(this.row)[this.col] = char;
    if (this.col === this.columns - 1) this.pendingWrap = true;
    else this.col++;
  }

  /** Applies the CSI sequence starting at `start` (the escape character); returns the index of its last character. */
  private escape(text: string, start: number): number {
    CSI.lastIndex = start;
    const match = CSI.exec(text);
    if (!match) return start;
    const [whole, isPrivate, params, final] = match as unknown as [string, string, string, string];
    const n = params === '' ? undefined : Number(params.split(';')[0]);
    if (isPrivate) return start + whole.length - 1;
    switch (final) {
      case 'A':
        this.moveTo(Math.max(this.top(), this.row - (n || 1)), this.col);
        break;
      case 'B':
        this.moveTo(this.row + (n || 1), this.col);
        break;
      case 'G':
        this.moveTo(this.row, Math.max(0, (n || 1) - 1));
        break;
      case 'K':
        this.eraseInLine(n ?? 0);
        break;
      case 'J':
        this.eraseInLine(0);
        for (let r = this.row + 1; r <= this.bottom; r++) this.grid[r] = [];
        break;
      default:
        // colours and anything else do not move text
        break;
    }
    return start + whole.length - 1;
  }

  private eraseInLine(mode: number): void {
    const line = this.line(this.row);
    if (mode === 2) line.length = 0;
    else if (mode === 1) for (let c = 0; c <= this.col; c++) line[c] = ' ';
    else line.length = Math.min(line.length, this.col);
  }

  /** The cursor cannot go above the first row on screen: what scrolled off is out of reach. */
  private top(): number {
    return Math.max(0, this.bottom + 1 - this.rows);
  }

  private moveTo(row: number, col: number): void {
    this.row = row;
    this.col = Math.min(col, this.columns - 1);
    this.pendingWrap = false;
    this.bottom = Math.max(this.bottom, row);
  }

  private line(row: number): string[] {
    const line = (this.grid[row] ??= []);
    for (let c = 0; c < this.col; c++) line[c] ??= ' ';
    return line;
  }
}

/** How `lines` look on a terminal `columns` wide: each line split into the rows it wraps onto. */
export function wrapRows(lines: string[], columns: number): string[] {
  return lines.flatMap((line) => {
    const chars = [...line];
    if (!chars.length) return [''];
    return Array.from({ length: Math.ceil(chars.length / columns) }, (_, i) =>
      chars
        .slice(i * columns, (i + 1) * columns)
        .join('')
        .replace(/\s+$/, ''),
    );
  });
}
