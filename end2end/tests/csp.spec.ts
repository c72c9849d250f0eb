import { expect, Page } from '@playwright/test';
import { test, openHydrated, signUp, uniqueEmail } from './helpers';

/** Collects every Content-Security-Policy violation and script error the page reports. */
function watchViolations(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`console: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  // The DOM event names the directive even when the console message is suppressed.
  page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Refused to load (CSP ${e.violatedDirective}): ${e.blockedURI}`);
    });
  });
  return problems;
}

test('every page hydrates under the Content-Security-Policy with no violation', async ({ page }) => {
  const problems = watchViolations(page);
  const response = await page.goto('/login');
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval' 'nonce-");
  expect(csp).not.toContain('unsafe-inline');
  expect(response?.headers()['x-frame-options']).toBe('DENY');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();

  await signUp(page, uniqueEmail('csp'));
  for (const path of ['/', '/characters', '/account', '/signup', '/no-such-page']) {
    await openHydrated(page, path);
  }
  // Opened again, a page nothing changed is the one kept in memory: it hydrates under
  // this response's nonce, put where the first response's stood.
  for (const path of ['/', '/characters', '/account', '/account/credits', '/presets']) {
    await openHydrated(page, path);
    await openHydrated(page, path);
  }
  const metrics = await (await page.request.get('/metrics')).text();
  const kept = metrics.match(/avatar_studio_list_lookups_total\{kind="html",outcome="kept"\} (\d+)/);
  expect(Number(kept?.[1] ?? 0)).toBeGreaterThan(0);
  // A character in training shows its progress bar; the canvas has the sketch pad.
  await openHydrated(page, '/characters');
  await page.getByLabel('Name').fill('Nova');
  await page.getByLabel('Description').fill('a calm engineer with short dark hair');
  await page.getByRole('button', { name: 'Create character' }).click();
  await expect(page.getByRole('progressbar').first()).toBeVisible();
  await openHydrated(page, '/');
  const pad = page.getByTestId('sketch-canvas');
  const box = await pad.boundingBox();
  if (box) {
    await page.mouse.move(box.x + 20, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + 120, box.y + 80);
    await page.mouse.up();
  }
  expect(problems).toEqual([]);
});
