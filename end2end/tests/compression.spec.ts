import { expect, Response } from '@playwright/test';
import { test, openHydrated, signUp, uniqueEmail } from './helpers';

/** What a response is, for this test: a page, the front end's files, or the JSON API. */
function kindOf(res: Response): string | null {
  const path = new URL(res.url()).pathname;
  if (res.request().resourceType() === 'document') return 'page';
  if (path.endsWith('.wasm')) return 'wasm';
  if (path.endsWith('.js')) return 'js';
  if (path.endsWith('.css')) return 'css';
  if (path === '/api/openapi.json') return 'json';
  return null;
}

/**
 * A slow link gets compressed text: the pages, their script, style and WASM, and JSON the page
 * asks for, each in the encoding Chromium prefers (zstd); the pages still hydrate.
 */
test('pages, their front end and their data arrive compressed, and pages hydrate', async ({ page }) => {
  const encodings = new Map<string, Set<string>>();
  page.on('response', async (res) => {
    const kind = kindOf(res);
    if (!kind) return;
    const encoding = (await res.headerValue('content-encoding')) ?? 'none';
    encodings.set(kind, (encodings.get(kind) ?? new Set()).add(encoding));
  });
  await signUp(page, uniqueEmail('compressed'));
  await openHydrated(page, '/characters');
  const api = await page.evaluate(async () => (await fetch('/api/openapi.json')).json());
  expect(Object.keys(api.paths).length).toBeGreaterThan(10);
  await expect.poll(() => [...encodings.keys()].sort()).toEqual(['css', 'js', 'json', 'page', 'wasm']);
  for (const [kind, seen] of encodings) expect([...seen], kind).toEqual(['zstd']);
});
