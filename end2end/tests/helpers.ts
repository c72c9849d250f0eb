import { test as base, expect, Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery';

/** A fresh address per test, so tests never depend on each other's accounts. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Opens a page and waits until the WASM bundle has hydrated it. */
export async function openHydrated(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

export async function signUp(page: Page, email: string, password = PASSWORD): Promise<void> {
  await openHydrated(page, '/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByTestId('credits')).toBeVisible();
}

/**
 * POSTs to the JSON API with the page's session, as the page itself would: with its `Origin`
 * (the server refuses cookie-carrying requests from anywhere else).
 */
export function postAsPage(page: Page, path: string, data: unknown) {
  const origin = new URL(page.url()).origin;
  return page.request.post(path, { data, headers: { Origin: origin } });
}

/**
 * Playwright's `test`, failing any test whose page had a WASM panic in its console: a panic can
 * leave the page half-updated yet still showing, which a test's own checks may not notice.
 */
export const test = base.extend<{ noPanics: void }>({
  noPanics: [
    async ({ page }, use) => {
      const panics: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error' && msg.text().includes('panicked at')) panics.push(msg.text().split('\n\nStack')[0]);
      });
      await use();
      expect(panics, 'WASM panics in the page console').toEqual([]);
    },
    { auto: true },
  ],
});
