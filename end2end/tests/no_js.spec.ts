import { expect, Page } from '@playwright/test';
import { test, PASSWORD, postAsPage, uniqueEmail } from './helpers';

// Before the WASM has loaded (or with JavaScript off), the main forms still work: each is a real
// form the browser posts by itself, and the server sends it back to the page, with the error
// in the page's URL when there is one. Without the script nothing updates live, so the test
// reloads to see progress, as a user would.
test.use({ javaScriptEnabled: false });

function card(page: Page, name: string) {
  return page.getByTestId('character-card').filter({ has: page.getByRole('heading', { name }) });
}

/** Reloads until `check` passes (it should fail fast, so the page is reloaded often). */
async function reloadUntil(page: Page, check: () => Promise<void>) {
  await expect(async () => {
    await page.reload();
    await check();
  }).toPass({ timeout: 60_000 });
}

async function credits(page: Page): Promise<number> {
  return parseInt((await page.getByTestId('credits').innerText()).trim(), 10);
}

test('without JavaScript, log-in, characters and cancelling work as plain forms', async ({ page, request }) => {
  const email = uniqueEmail('nojs');
  await page.goto('/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('credits')).toHaveText('300 credits');
  // Nothing here ran the page's script.
  await expect(page.locator('body[data-hydrated]')).toHaveCount(0);

  // Log out, then a wrong password comes back with its reason, the right one logs in.
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('form-post-error')).toHaveText('Wrong email or password.');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('form-post-error')).toHaveCount(0);
  await expect(page.getByTestId('credits')).toHaveText('300 credits');

  // A character from a prompt, whose avatar training is made to fail.
  const reason = 'The image must show exactly one face';
  const armed = await request.post('/a2e-sim/_simulator/fail-next-training', { data: { reason } });
  expect(armed.ok()).toBeTruthy();
  await page.goto('/characters');
  await page.getByLabel('Name').fill('Quiet Quill');
  await page.getByLabel('Description').fill('a scribe with ink-stained fingers');
  await page.getByRole('button', { name: 'Create character' }).click();
  const quill = card(page, 'Quiet Quill');
  await expect(quill.getByTestId('avatar-badge')).toBeVisible();
  await expect(page.getByTestId('credits')).toHaveText('298 credits');
  await reloadUntil(page, () => expect(quill.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'failed', { timeout: 1_000 }));
  await expect(quill.getByText(reason)).toBeVisible();

  // Retry trains it again, and this time it is trained.
  await quill.getByRole('button', { name: 'Retry training' }).click();
  await expect(quill.getByTestId('avatar-badge')).toHaveAttribute('data-status', /pending|training|completed/);
  await reloadUntil(page, () => expect(quill.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'completed', { timeout: 1_000 }));
  await expect(quill.getByText('Avatar: trained')).toBeVisible();

  // Continue training: the price is asked first (a disclosure, no script needed).
  const before = await credits(page);
  await quill.getByTestId('continue-training').click();
  const price = quill.getByRole('dialog', { name: 'Confirm continue training' });
  await expect(price).toContainText('costs 100 credits');
  await price.getByRole('button', { name: 'Spend 100 credits' }).click();
  await expect(quill.getByText('Avatar: continuing training')).toBeVisible();
  await expect(page.getByTestId('credits')).toHaveText(`${before - 100} credits`);

  // Delete, after its confirmation.
  await quill.getByTestId('delete-character').click();
  const sure = quill.getByRole('dialog', { name: 'Confirm delete' });
  await expect(sure).toContainText('Delete Quiet Quill?');
  await sure.getByRole('button', { name: 'Delete for good' }).click();
  await expect(page.getByText('No characters yet')).toBeVisible();
  await expect(card(page, 'Quiet Quill')).toHaveCount(0);

  // A fight started by a script (the JSON API, with this browser's session and Origin)…
  const made = await postAsPage(page, '/api/a2e/character', { name: 'Iron Fist', prompt: 'a boxer' });
  expect(made.status()).toBe(201);
  const fighter = await made.json();
  const moves = ['a jab', 'a hook', 'an uppercut', 'a dodge', 'a bow'];
  const started = await postAsPage(page, '/api/a2e/fight-sequence', { characterRefs: [{ id: fighter.id }], moves });
  expect(started.status()).toBe(202);
  // …is cancelled from the page once A2E has started it: Cancel asks first, the charge is kept.
  await page.goto('/');
  const fight = page.locator('[data-testid="generation"][data-kind="fight_sequence"]');
  const cancel = fight.locator('summary[data-testid="cancel"]');
  await reloadUntil(page, () => expect(cancel).toBeVisible({ timeout: 1_000 }));
  const charged = await credits(page);
  await cancel.click();
  const keep = fight.getByRole('alertdialog', { name: 'Confirm cancel' });
  await expect(keep).toContainText('60 credits are kept');
  await keep.getByRole('button', { name: 'Cancel anyway' }).click();
  await expect(fight).toHaveAttribute('data-status', 'cancelled');
  await expect(page.getByTestId('credits')).toHaveText(`${charged} credits`);
});
