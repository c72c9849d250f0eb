import { expect } from '@playwright/test';
import { test, openHydrated, PASSWORD, signUp, uniqueEmail } from './helpers';

test('sign up, log out, log in again and see the shell with credits', async ({ page }) => {
  const email = uniqueEmail('shell');
  await signUp(page, email);

  const header = page.locator('header.topbar');
  await expect(header.getByText('Avatar Studio')).toBeVisible();
  for (const link of ['Canvas', 'Characters', 'Account']) {
    await expect(header.getByRole('link', { name: link, exact: true })).toBeVisible();
  }
  await expect(page.getByTestId('credits')).toHaveText('300 credits');
  await expect(page.getByRole('status')).toContainText('Demo mode: simulated A2E');
  await expect(header.getByText(email)).toBeVisible();

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId('credits')).toHaveCount(0);
  await expect(header.getByRole('link', { name: 'Sign up' })).toBeVisible();

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('credits')).toHaveText('300 credits');
  await expect(page).toHaveURL(/\/$/);

  // The session survives a full reload: it lives in the database, not in the page.
  await page.reload();
  await expect(page.getByTestId('credits')).toHaveText('300 credits');
});

test('a wrong password shows an error and keeps the visitor logged out', async ({ page }) => {
  const email = uniqueEmail('wrong');
  await signUp(page, email);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
  await expect(page.getByTestId('credits')).toHaveCount(0);
});

test('signing up twice with one email explains the problem', async ({ page }) => {
  const email = uniqueEmail('twice');
  await signUp(page, email);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await openHydrated(page, '/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('alert')).toContainText('already exists');
});

test('account page makes an API token that works on the JSON API', async ({ page, request }) => {
  const email = uniqueEmail('token');
  await signUp(page, email);
  await openHydrated(page, '/account');
  await expect(page.getByTestId('account-email')).toHaveText(email);
  await page.getByPlaceholder('Token name').fill('e2e script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByTestId('new-token').textContent())!.trim();
  expect(token).toMatch(/^ast_[0-9a-f]{64}$/);

  const me = await request.get('/api/me', { headers: { Authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect(await me.json()).toMatchObject({ email, credits: 300 });
});

test('unknown pages answer 404 with a way back', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Back to the canvas' })).toBeVisible();
});
