import { expect, Page } from '@playwright/test';
import { test, openHydrated, postAsPage, signUp, uniqueEmail } from './helpers';

async function makeCharacter(page: Page, body: Record<string, unknown>) {
  const res = await postAsPage(page, '/api/a2e/character', { waitForAvatar: true, ...body });
  expect(res.status()).toBe(201);
  return res.json();
}

function card(page: Page, name: string) {
  return page.getByTestId('character-card').filter({ has: page.getByRole('heading', { name }) });
}

/** Fills the search form (its fields by name: a label's accessible name includes its field's value). */
async function search(page: Page, fields: { q?: string; status?: string; tag?: string; sort?: string }) {
  const form = page.getByRole('search');
  await form.locator('input[name="q"]').fill(fields.q ?? '');
  await form.locator('select[name="status"]').selectOption(fields.status ?? '');
  await form.locator('input[name="tag"]').fill(fields.tag ?? '');
  await form.locator('select[name="sort"]').selectOption(fields.sort ?? 'newest');
  await form.getByRole('button', { name: 'Search', exact: true }).click();
}

test('gallery: search, filter, edit tags on the card, switch views and delete in bulk', async ({ page, request }) => {
  await signUp(page, uniqueEmail('gallery'));
  await makeCharacter(page, { name: 'Nova Knight', prompt: 'a knight in silver armour', tags: ['hero'] });
  await makeCharacter(page, { name: 'Sol Sage', prompt: 'a calm old sage', outfitDescription: 'saffron robes' });
  await request.post('/a2e-sim/_simulator/fail-next-training', { data: { reason: 'No face found' } });
  const rook = await makeCharacter(page, { name: 'Rook Thief', prompt: 'a thief in a green hood' });
  expect(rook.avatar_status).toBe('failed');

  await openHydrated(page, '/characters');
  const gallery = page.getByTestId('gallery');
  await expect(gallery.getByTestId('character-card')).toHaveCount(3);
  await expect(card(page, 'Sol Sage').getByTestId('card-meta')).toHaveText('Model V2.1 · image training · never used');

  // Search by outfit; the query is in the URL.
  await search(page, { q: 'SAFFRON' });
  await expect(page).toHaveURL(/[?&]q=SAFFRON/);
  await expect(gallery.getByTestId('character-card')).toHaveCount(1);
  await expect(card(page, 'Sol Sage')).toBeVisible();
  // Filter by the avatar's status.
  await search(page, { status: 'failed' });
  await expect(gallery.getByTestId('character-card')).toHaveCount(1);
  await expect(card(page, 'Rook Thief').getByTestId('avatar-badge')).toHaveAttribute('data-status', 'failed');
  await search(page, { q: 'nobody like this' });
  await expect(page.getByTestId('gallery-empty')).toHaveText('No character matches this search.');

  // Edit tags on a card, then filter by the new tag.
  await search(page, { sort: 'name' });
  await expect(gallery.getByTestId('character-card').first()).toContainText('Nova Knight');
  const sol = card(page, 'Sol Sage');
  await sol.getByRole('button', { name: 'Edit tags' }).click();
  await sol.getByLabel('Tags of Sol Sage').fill('mentor, Wise');
  await sol.getByRole('button', { name: 'Save tags' }).click();
  await expect(sol.getByTestId('tags').getByRole('listitem')).toHaveText(['mentor', 'wise']);
  // The same page from the server again: it read that page before the edit (and on SQLite keeps
  // the pages it read), and shows the edit at once.
  await openHydrated(page, '/characters?sort=name');
  await expect(card(page, 'Sol Sage').getByTestId('tags').getByRole('listitem')).toHaveText(['mentor', 'wise']);
  await search(page, { tag: 'wise' });
  await expect(gallery.getByTestId('character-card')).toHaveCount(1);
  await expect(card(page, 'Sol Sage')).toBeVisible();
  // A filtered URL renders filtered on the server too.
  await openHydrated(page, '/characters?tag=hero');
  await expect(page.getByTestId('gallery').getByTestId('character-card')).toHaveCount(1);
  await expect(card(page, 'Nova Knight')).toBeVisible();

  // Grid or list.
  await openHydrated(page, '/characters');
  await page.getByRole('button', { name: 'List', exact: true }).click();
  await expect(page.getByTestId('gallery')).toHaveClass(/list-view/);
  await page.getByRole('button', { name: 'Grid', exact: true }).click();
  await expect(page.getByTestId('gallery')).not.toHaveClass(/list-view/);

  // Bulk delete: select two, confirm, one is left.
  await page.getByLabel('Select Nova Knight').check();
  await page.getByLabel('Select Rook Thief').check();
  await page.getByRole('button', { name: 'Delete selected (2)' }).click();
  await page.getByRole('dialog', { name: 'Confirm bulk delete' }).getByRole('button', { name: 'Delete them for good' }).click();
  await expect(page.getByTestId('gallery').getByTestId('character-card')).toHaveCount(1);
  await expect(card(page, 'Sol Sage')).toBeVisible();
  const left = await (await page.request.get('/api/characters')).json();
  expect(left.map((c: { name: string }) => c.name)).toEqual(['Sol Sage']);
});

test('gallery: the first page is rendered, More loads the next', async ({ page }) => {
  await signUp(page, uniqueEmail('pages'));
  for (let i = 1; i <= 26; i++) {
    const res = await postAsPage(page, '/api/a2e/character', { name: `Extra ${String(i).padStart(2, '0')}`, prompt: 'a crowd member' });
    expect(res.status()).toBe(201);
  }
  await openHydrated(page, '/characters?sort=name');
  const cards = page.getByTestId('gallery').getByTestId('character-card');
  await expect(cards).toHaveCount(24);
  await page.getByTestId('more').click();
  await expect(cards).toHaveCount(26);
  await expect(cards.last()).toContainText('Extra 26');
  await expect(page.getByTestId('more')).toHaveCount(0);
});

test('detail page: settings, training history, provenance, and make again', async ({ page }) => {
  await signUp(page, uniqueEmail('detail'));
  const hero = await makeCharacter(page, { name: 'Vera Vale', prompt: 'a detective with a red scarf', outfitDescription: 'a long coat', tags: ['noir'] });
  expect(hero.avatar_status).toBe('completed');
  const res = await postAsPage(page, '/api/a2e/nanobanana', { prompt: 'Vera in the rain', characterRefs: [{ id: hero.id }] });
  expect(res.status()).toBe(202);

  // From the gallery, the name leads to the detail page.
  await openHydrated(page, '/characters');
  await card(page, 'Vera Vale').getByRole('link', { name: 'Vera Vale' }).click();
  await expect(page).toHaveURL(new RegExp(`/characters/${hero.id}$`));
  await expect(page.getByRole('heading', { level: 1, name: 'Vera Vale' })).toBeVisible();
  const settings = page.getByTestId('settings');
  await expect(settings).toContainText('a detective with a red scarf');
  await expect(settings).toContainText('a long coat');
  await expect(settings).toContainText('V2.1');

  const events = page.getByTestId('events');
  await expect(events.locator('tbody tr[data-kind="queued"]')).toContainText('Created from a description');
  for (const kind of ['portrait_drawn', 'training_started', 'done']) {
    await expect(events.locator(`tbody tr[data-kind="${kind}"]`)).toHaveCount(1);
  }
  await expect(page.getByTestId('training-summary')).toContainText('Training took');

  const made = page.getByTestId('provenance').getByTestId('generation');
  await expect(made).toHaveCount(1);
  await expect(made.first()).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(made.first().getByTestId('download')).toHaveAttribute('href', /\/media\//);
  const credits = page.getByTestId('credits');
  await expect(credits).toHaveText('294 credits');

  await made.first().getByRole('button', { name: 'Make again (4 credits)' }).click();
  await expect(made).toHaveCount(2);
  await expect(credits).toHaveText('290 credits');
  await made.last().getByRole('button', { name: "Make again with today's avatar" }).click();
  await expect(made).toHaveCount(3);
  await expect(credits).toHaveText('286 credits');
  for (const i of [0, 1, 2]) {
    await expect(made.nth(i)).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
    await expect(made.nth(i).getByTestId('references')).toHaveText('With Vera Vale (avatar)');
  }
  const used = await (await page.request.get(`/api/characters/${hero.id}`)).json();
  expect(used.times_used).toBe(3);
});

test('canvas history: a fight shows its moves, results download, and finished ones can be deleted', async ({ page }) => {
  await signUp(page, uniqueEmail('history'));
  const hero = await makeCharacter(page, { name: 'Kai Storm', prompt: 'a boxer with taped fists' });
  const res = await postAsPage(page, '/api/a2e/fight-sequence', { characterRefs: [{ id: hero.id }], moves: ['a left jab', 'an uppercut'] });
  expect(res.status()).toBe(202);
  await openHydrated(page, '/');
  const fight = page.locator('[data-testid="generation"][data-kind="fight_sequence"]');
  await expect(fight.getByTestId('fight-moves').getByRole('listitem')).toHaveCount(2);
  await expect(fight.getByTestId('fight-moves')).toContainText('a left jab');
  await expect(fight.getByTestId('fight-moves')).toContainText('an uppercut');
  await expect(fight).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(fight.getByTestId('fight-moves').getByRole('listitem').first()).toContainText('clip ready');
  const downloads = fight.getByTestId('download');
  await expect(downloads).toHaveCount(2);
  await expect(downloads.first()).toHaveAttribute('download', '');
  const clip = await page.request.get((await downloads.first().getAttribute('href'))!);
  expect(clip.ok()).toBeTruthy();

  await fight.getByTestId('delete-generation').click();
  await fight.getByRole('alertdialog', { name: 'Confirm delete' }).getByRole('button', { name: 'Delete for good' }).click();
  await expect(page.locator('[data-testid="generation"]')).toHaveCount(0);
  await expect(page.getByText('Nothing generated yet.')).toBeVisible();
  const left = await (await page.request.get('/api/generations')).json();
  expect(left).toEqual([]);
});
