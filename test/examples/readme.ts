/** One command the README tells a reader to type. */
export interface ReadmeCommand {
  /** 1-based line of README.md. */
  line: number;
  /** From a fenced ```sh block, or an inline code span outside any block. */
  source: 'sh' | 'inline';
  /** The command: its trailing `# comment` cut, runs of blanks outside quotes made one space. */
  command: string;
  /** What the README shows it printing: the `# ` comment lines right under it in its block, without the `# `. */
  output: string[];
}

/**
 * Every command of README.md, in order: each line of each ```sh block (comment lines right under a command are its
 * shown output), and each inline code span outside the blocks that starts with `npx rollout` (the CLI's commands
 * the prose tells the reader to run; other inline spans name things rather than say "type this").
 */
export function readmeCommands(readme: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  let fence: string | undefined;
  let last: ReadmeCommand | undefined;
  readme.split('\n').forEach((text, index) => {
    const line = index + 1;
    const opening = /^```(\S*)\s*$/.exec(text);
    if (opening) {
      fence = fence === undefined ? opening[1] : undefined;
      last = undefined;
      return;
    }
    if (fence === 'sh') {
      const trimmed = text.trim();
      if (trimmed === '') {
        last = undefined;
      } else if (trimmed.startsWith('#')) {
        last?.output.push(trimmed.replace(/^#\s?/, ''));
      } else {
        last = { line, source: 'sh', command: normalize(trimmed), output: [] };
        commands.push(last);
      }
      return;
    }
    if (fence !== undefined) return;
    for (const span of text.matchAll(/`(npx rollout [^`]*)`/g))
      commands.push({ line, source: 'inline', command: normalize(span[1]!), output: [] });
  });
  return commands;
}

/** The text of the first fenced block of `lang` whose first line matches `first`. */
export function readmeBlock(readme: string, lang: string, first: RegExp): string | undefined {
  for (const block of readme.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm')))
    if (first.test(block[1]!.split('\n')[0]!)) return block[1];
  return undefined;
}

/** Cuts an unquoted `#` comment (one that starts a word) and makes each run of unquoted blanks one space. */
function normalize(text: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      out += c;
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
      out += c;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      break;
    } else if (/\s/.test(c)) {
      if (!out.endsWith(' ')) out += ' ';
    } else {
      out += c;
    }
  }
  return out.trim();
}

/**
 * The forms of a command with optional parts in brackets (`status ID [--json]`): without them, and with all of
 * them; a command without brackets has one form.
 */
export function forms(command: string): string[] {
  if (!/\[[^\]]*\]/.test(command)) return [command];
  const bare = command.replace(/\s*\[[^\]]*\]/g, '').trim();
  const full = command
    .replace(/\[([^\]]*)\]/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  return [bare, full];
}

/** A line the README shows as output, as a pattern: `…` stands for any text. */
export function shownOutput(line: string): RegExp {
  const escaped = line
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`);
}
