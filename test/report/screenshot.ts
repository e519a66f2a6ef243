import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

/** Debian's Chromium (see scripts/ensure-chromium.sh); `CHROMIUM_PATH` overrides. playwright-core never downloads one. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What a screenshot saw: the PNG's size, the page's text, and how many active elements (script, img, …) it has. */
export interface Shot {
  bytes: number;
  text: string;
  activeElements: number;
}

/**
 * Opens a local file in a fresh headless Chromium (new empty profile, no network features) and saves a full-page
 * PNG. The page runs with JavaScript disabled: a report must need none.
 */
export async function screenshot(file: string, png: string, width = 1100): Promise<Shot> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  // a persistent context is how playwright takes --user-data-dir: a fresh, empty profile per shot
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: ARGS,
    viewport: { width, height: 800 },
    javaScriptEnabled: false,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // a bare SVG document has no scrolling body, and full-page shots of it hang: size the viewport to it instead
    // expressions as strings: this project compiles without the DOM library
    const svg = await page.evaluate<{ width: number; height: number } | null>(
      `document.documentElement.localName === 'svg' ? document.documentElement.getBoundingClientRect().toJSON() : null`,
    );
    if (svg) await page.setViewportSize({ width: Math.ceil(svg.width), height: Math.ceil(svg.height) });
    const buffer = await page.screenshot({ path: png, fullPage: !svg });
    const text = await page.evaluate<string>(
      `document.body ? document.body.innerText : (document.documentElement.textContent ?? '')`,
    );
    const activeElements = await page.evaluate<number>(
      `document.querySelectorAll('script, img, iframe, object, embed, foreignObject').length`,
    );
    return { bytes: buffer.length, text, activeElements };
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}
