import { Browser, expect, Page } from '@playwright/test';
import { test, openHydrated, PASSWORD, postAsPage, signUp, uniqueEmail } from './helpers';

async function logIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await openHydrated(page, '/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('credits')).toBeVisible();
}

/** A second browser (its own cookies), logged in as `email`. */
async function otherBrowser(browser: Browser, baseURL: string, email: string): Promise<Page> {
  const context = await browser.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
  const page = await context.newPage();
  await logIn(page, email);
  return page;
}

test('the credits page lists every ledger entry with what it paid for', async ({ page }) => {
  await signUp(page, uniqueEmail('ledger'));
  const created = await postAsPage(page, '/api/a2e/character', {
    prompt: 'a lighthouse keeper with a yellow coat',
    name: 'Keeper',
  });
  expect(created.status()).toBe(201);

  await openHydrated(page, '/account');
  await page.getByRole('link', { name: 'See every entry' }).click();
  await expect(page).toHaveURL(/\/account\/credits$/);
  await expect(page.getByTestId('credit-balance')).toHaveText('298 credits');
  // No real A2E key in the tests: A2E's coins are not shown.
  await expect(page.getByTestId('a2e-coins')).toHaveCount(0);

  const rows = page.getByTestId('ledger-row');
  await expect(rows.filter({ hasText: 'Welcome credits' })).toContainText('+300');
  const hold = rows.filter({ hasText: 'Held for: Character portrait' });
  await expect(hold).toContainText('-2');
  const link = hold.getByRole('link', { name: 'Keeper' });
  await expect(link).toHaveAttribute('href', /^\/characters\/[0-9a-f]+$/);
  // The portrait is settled once drawn: the charge shows as its own row.
  await expect(async () => {
    await page.reload();
    await expect(rows.filter({ hasText: 'Charged: Character portrait' })).toHaveCount(1);
  }).toPass({ timeout: 60_000 });
});

test('an API token is listed on the account page and revoked there', async ({ page, request }) => {
  await signUp(page, uniqueEmail('revoke'));
  await openHydrated(page, '/account');
  await expect(page.getByTestId('no-tokens')).toBeVisible();
  await page.getByPlaceholder('Token name').fill('old laptop');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByTestId('new-token').textContent())!.trim();
  const row = page.getByTestId('token-row').filter({ hasText: 'old laptop' });
  await expect(row).toContainText('never');
  const auth = { headers: { Authorization: `Bearer ${token}` } };
  expect((await request.get('/api/me', auth)).status()).toBe(200);

  await row.getByRole('button', { name: 'Revoke old laptop' }).click();
  await expect(page.getByTestId('token-row')).toHaveCount(0);
  await expect(page.getByTestId('no-tokens')).toBeVisible();
  expect((await request.get('/api/me', auth)).status()).toBe(401);
});

test('changing the password logs out another browser, not this one', async ({ page, browser, baseURL }) => {
  const email = uniqueEmail('password');
  await signUp(page, email);
  const other = await otherBrowser(browser, baseURL!, email);

  await openHydrated(page, '/account');
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password').fill('a fresh pass phrase');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('password-changed')).toBeVisible();

  // This browser goes on; the other one is logged out at its next page.
  await page.reload();
  await expect(page.getByTestId('account-email')).toHaveText(email);
  await other.reload();
  await expect(other.getByRole('link', { name: 'Create an account' })).toBeVisible();
  await expect(other.getByTestId('credits')).toHaveCount(0);

  // Only the new password logs in now.
  await openHydrated(other, '/login');
  await other.getByLabel('Email').fill(email);
  await other.getByLabel('Password').fill(PASSWORD);
  await other.getByRole('button', { name: 'Log in' }).click();
  await expect(other.getByRole('alert')).toHaveText('Wrong email or password.');
  await logIn(other, email, 'a fresh pass phrase');
  await other.context().close();
});

test('deleting the account asks for the password, then removes it', async ({ page }) => {
  const email = uniqueEmail('delete');
  await signUp(page, email);
  await openHydrated(page, '/account');
  await page.getByTestId('delete-account').click();
  const dialog = page.getByRole('dialog', { name: 'Confirm account deletion' });
  await expect(dialog).toBeVisible();
  // It takes focus (the password field) and closes on Escape.
  await expect(dialog.getByLabel('Your password, to confirm')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await page.getByTestId('delete-account').click();

  await dialog.getByLabel('Your password, to confirm').fill('not my password');
  await dialog.getByRole('button', { name: 'Delete for good' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('Your current password is not right.');
  await expect(page.getByTestId('credits')).toBeVisible();

  await dialog.getByLabel('Your password, to confirm').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Delete for good' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('credits')).toHaveCount(0);

  await openHydrated(page, '/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
});

test('an avatar trained in the A2E account is imported once, as a character', async ({ page, request }) => {
  await signUp(page, uniqueEmail('import'));
  const name = `Made in A2E ${Date.now()}`;
  // The simulator's stand-in for A2E's own app: an avatar the studio did not train.
  const seeded = await request.post('/a2e-sim/_simulator/avatars', { data: { name } });
  expect(seeded.ok()).toBeTruthy();

  await openHydrated(page, '/account');
  const box = page.getByRole('checkbox', { name });
  // Listed as soon as asked; importable once A2E has trained it.
  await expect(async () => {
    await page.getByTestId('find-avatars').click();
    await expect(box).toBeEnabled({ timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await box.check();
  await page.getByRole('button', { name: 'Import selected (1)' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Imported 1' })).toBeVisible();
  const row = page.getByTestId('a2e-avatar').filter({ hasText: name });
  await expect(row).toContainText('already imported');
  await expect(box).toBeDisabled();

  await openHydrated(page, '/characters');
  await expect(page.getByText(name).first()).toBeVisible();
});

test('a preset saved from a trained character starts a new character and a canvas generation', async ({ page }) => {
  await signUp(page, uniqueEmail('preset'));
  const created = await postAsPage(page, '/api/a2e/character', {
    prompt: 'a detective in the rain',
    name: 'Sam',
    outfit_description: 'a grey suit',
    waitForAvatar: true,
  });
  expect(created.status()).toBe(201);
  expect((await created.json()).avatar_status).toBe('completed');

  await openHydrated(page, '/presets');
  const form = page.getByTestId('save-preset');
  await form.getByLabel('Preset name').fill('Sam noir');
  await form.getByLabel("Outfit (empty: the character's)").fill('a trench coat');
  await form.getByLabel('Aspect ratio').selectOption('9:16');
  await form.getByRole('button', { name: 'Save preset' }).click();
  const item = page.getByTestId('preset').filter({ hasText: 'Sam noir' });
  await expect(item).toContainText('outfit: a trench coat');
  await expect(item).toContainText('aspect 9:16');

  await item.getByRole('link', { name: 'New character from this' }).click();
  await expect(page).toHaveURL(/\/characters\?preset=/);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(page.getByTestId('preset-note')).toContainText('Sam noir');
  await expect(page.getByLabel('Outfit')).toHaveValue('a trench coat');

  await openHydrated(page, '/presets');
  await page.getByTestId('preset').filter({ hasText: 'Sam noir' }).getByRole('link', { name: 'Use on canvas' }).click();
  await expect(page).toHaveURL(/\/\?preset=/);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(page.getByTestId('preset-note')).toContainText('Sam noir');
  await expect(page.getByRole('checkbox', { name: 'Use Sam' })).toBeChecked();
  await expect(page.getByLabel('Aspect ratio')).toHaveValue('9:16');
});

test('the account pages fit a phone: no sideways scrolling at 360–414 px', async ({ page }) => {
  await signUp(page, uniqueEmail('phone-account-pages-with-a-long-address'));
  await postAsPage(page, '/api/tokens', { name: 'a token with a rather long descriptive name' });
  for (const width of [360, 390, 414]) {
    await page.setViewportSize({ width, height: 800 });
    for (const path of ['/account', '/account/credits', '/presets']) {
      await openHydrated(page, path);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, `${path} at ${width}px`).toBeLessThanOrEqual(0);
    }
  }
});
