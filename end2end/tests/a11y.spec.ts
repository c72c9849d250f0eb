import { expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { test, openHydrated, postAsPage, signUp, uniqueEmail } from './helpers';

/** Serious and critical accessibility faults axe-core finds on the page as it is now. */
async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'best-practice']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

test('every page has no serious or critical accessibility faults', async ({ page }) => {
  for (const path of ['/login', '/signup']) {
    await openHydrated(page, path);
    expect(await seriousViolations(page), path).toEqual([]);
  }
  await signUp(page, uniqueEmail('a11y'));
  const res = await postAsPage(page, '/api/a2e/character', { name: 'Ada', prompt: 'a pilot with grey hair', waitForAvatar: true });
  expect(res.status()).toBe(201);
  for (const path of ['/', '/characters', '/account']) {
    await openHydrated(page, path);
    expect(await seriousViolations(page), path).toEqual([]);
  }
  // An open confirmation step, too.
  await openHydrated(page, '/characters');
  await page.getByTestId('delete-character').first().click();
  await expect(page.getByRole('dialog', { name: 'Confirm delete' })).toBeVisible();
  expect(await seriousViolations(page), 'confirm delete').toEqual([]);
});

test('avatar badges announce their changes, and focus is visible', async ({ page }) => {
  await signUp(page, uniqueEmail('a11y2'));
  await openHydrated(page, '/characters');
  const badge = page.getByTestId('avatar-badge').first();
  const res = await postAsPage(page, '/api/a2e/character', { name: 'Bo', prompt: 'a baker with flour on his cheek' });
  expect(res.status()).toBe(201);
  await expect(badge).toHaveAttribute('aria-live', 'polite');
  // Keyboard users see where they are.
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const style = getComputedStyle(el);
    return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  });
  expect(outline).toBe(true);
});
