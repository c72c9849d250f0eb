import { expect, test } from '@playwright/test';
import { signUp, uniqueEmail } from './helpers';

// Every page hydrates under the strict Content-Security-Policy, with no violation reported.
test('pages hydrate under the Content-Security-Policy without a single violation', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
  });
  page.on('pageerror', (err) => violations.push(err.message));
  await signUp(page, uniqueEmail('csp'));
  for (const path of ['/', '/characters', '/account']) {
    const res = await page.goto(path);
    expect(res!.headers()['content-security-policy']).toContain("'nonce-");
    await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  }
  await page.goto('/login');
  expect(violations).toEqual([]);
});
