import { expect } from '@playwright/test';
import { test, openHydrated, postAsPage, signUp, uniqueEmail } from './helpers';

const isEventStream = (url: string) => new URL(url).pathname === '/api/events';

test('one live event stream serves every page the user moves between', async ({ page }) => {
  await signUp(page, uniqueEmail('live-one'));
  const made = await postAsPage(page, '/api/a2e/character', { name: 'Ivo Ink', prompt: 'a calligrapher', waitForAvatar: true });
  expect(made.status()).toBe(201);
  const ivo = await made.json();

  const streams: string[] = [];
  page.on('request', (request) => {
    if (isEventStream(request.url())) streams.push(request.url());
  });
  await openHydrated(page, '/characters');
  await expect.poll(() => streams.length).toBe(1);

  // Client-side navigations (the gallery, a detail page, the canvas) keep the one stream open.
  await page.getByTestId('character-card').getByRole('link', { name: 'Ivo Ink' }).first().click();
  await expect(page).toHaveURL(new RegExp(`/characters/${ivo.id}$`));
  await page.locator('nav.nav').getByRole('link', { name: 'Canvas' }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.locator('nav.nav').getByRole('link', { name: 'Characters' }).click();
  await expect(page.getByTestId('character-card')).toHaveCount(1);

  // A change made elsewhere while the user was moving shows up live on the page now open.
  const other = await postAsPage(page, '/api/a2e/character', { name: 'Pia Pen', prompt: 'a poet', waitForAvatar: true });
  expect(other.status()).toBe(201);
  await expect(page.getByTestId('character-card')).toHaveCount(2);
  expect(streams).toHaveLength(1);
});

test('what changed before the live stream opened is shown once it opens', async ({ page }) => {
  await signUp(page, uniqueEmail('live-gap'));
  // Hold the page's event stream back, as a slow link or a reconnect would.
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/events', async (route) => {
    await released;
    await route.continue();
  });
  await openHydrated(page, '/characters');
  await expect(page.getByTestId('gallery-empty')).toBeVisible();

  // Made while no stream was open: its event reached nobody.
  const made = await postAsPage(page, '/api/a2e/character', { name: 'Gus Gap', prompt: 'a lighthouse keeper', waitForAvatar: true });
  expect(made.status()).toBe(201);
  await expect(page.getByTestId('character-card')).toHaveCount(0);

  release();
  await expect(page.getByTestId('character-card')).toHaveCount(1);
  await expect(page.getByRole('heading', { name: 'Gus Gap' })).toBeVisible();
});
