import { expect } from '@playwright/test';
import { test, openHydrated, signUp, uniqueEmail } from './helpers';

// While A2E refuses work (503 before doing anything), a scene waits and says so; cancelling it
// before A2E started refunds it in full, as the button says before the click.
test('a scene waits for A2E while it is down, and cancelling it before A2E started refunds in full', async ({ page, request }) => {
  await signUp(page, uniqueEmail('outage'));
  const down = await request.post('/a2e-sim/_simulator/faults', { data: { rate: 1, kinds: ['server_error'] } });
  expect(down.ok()).toBeTruthy();
  try {
    await openHydrated(page, '/');
    const before = await (await page.request.get('/api/me')).json();
    await page.getByLabel('Prompt').fill('a quiet harbour at dawn');
    await page.getByRole('button', { name: /^Generate \(4 credits\)$/ }).click();

    const scene = page.locator('[data-testid="generation"][data-kind="scene"]');
    await expect(scene.getByTestId('work-notice')).toContainText('Waiting for A2E', { timeout: 20_000 });
    const held = await (await page.request.get('/api/me')).json();
    expect(held.credits).toBe(before.credits - 4);

    await scene.getByRole('button', { name: 'Cancel (refund 4 credits)' }).click();
    await expect(scene).toHaveAttribute('data-status', 'cancelled');
    await expect.poll(async () => (await (await page.request.get('/api/me')).json()).credits).toBe(before.credits);
  } finally {
    await request.post('/a2e-sim/_simulator/faults', { data: { rate: 0, kinds: [] } });
  }
});

// Once A2E has started the work, Cancel asks first: the charge is kept.
test('cancelling a fight A2E already started keeps the charge after a confirmation', async ({ page }) => {
  await signUp(page, uniqueEmail('keeper'));
  const made = await page.request.post('/api/a2e/character', { data: { name: 'Iron Fist', prompt: 'a boxer' } });
  expect(made.status()).toBe(201);
  const fighter = await made.json();
  await openHydrated(page, '/');
  const before = await (await page.request.get('/api/me')).json();
  const moves = ['a jab', 'a hook', 'an uppercut', 'a dodge', 'a bow'];
  const res = await page.request.post('/api/a2e/fight-sequence', { data: { characterRefs: [{ id: fighter.id }], moves } });
  expect(res.status()).toBe(202);
  const fight = page.locator('[data-testid="generation"][data-kind="fight_sequence"]');
  // Once started, Cancel opens a confirmation step (a <summary>) rather than cancelling.
  const cancel = fight.locator('summary[data-testid="cancel"]');
  await expect(cancel).toBeVisible({ timeout: 20_000 });
  await cancel.click();
  await expect(fight.getByTestId('cancel-confirm')).toContainText('60 credits are kept');
  // The card is drawn anew as the fight moves on; the open step stays open through that.
  const seen = await fight.getAttribute('data-updated');
  await expect(fight).not.toHaveAttribute('data-updated', seen ?? '', { timeout: 30_000 });
  await expect(fight.getByTestId('cancel-confirm')).toBeVisible();
  await fight.getByRole('button', { name: 'Cancel anyway' }).click();
  await expect(fight).toHaveAttribute('data-status', 'cancelled');
  const after = await (await page.request.get('/api/me')).json();
  expect(after.credits).toBe(before.credits - 60);
});
