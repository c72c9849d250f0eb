import { Browser, expect, Page, test } from '@playwright/test';
import { openHydrated, PASSWORD, postAsPage, signUp, uniqueEmail } from './helpers';

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
