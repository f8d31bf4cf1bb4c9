import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from '../helpers/child-process.ts';

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it), or another build named by CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Screenshots land here (gitignored), one per page and viewport, for a person to look at after a run. */
export const ARTIFACT_DIR = join(repoRoot, 'test-artifacts', 'console');

export const VIEWPORTS = { laptop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  // Root in a container has no user namespace for Chromium's sandbox; /dev/shm may be tiny.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
}

/** A page that records every console error and uncaught exception, so a test can assert there were none. */
export async function consolePage(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  return { page, errors };
}

/**
 * A browser context whose tab already holds `token` (as after "Use token" on an earlier visit), so the
 * first page load is authenticated: a request without it is refused with 401, which Chromium logs
 * as a console error whatever the page does with the answer.
 */
export async function signedInContext(browser: Browser, token: string, viewport: { width: number; height: number }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport });
  // Runs in the page, where sessionStorage exists (this project's types have no DOM).
  await context.addInitScript(`sessionStorage.setItem('rill.console.token', ${JSON.stringify(token)})`);
  return context;
}

export async function useToken(page: Page, token: string): Promise<void> {
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACT_DIR, `${name}.png`), fullPage: true });
}
