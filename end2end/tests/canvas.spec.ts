import { expect, Page } from '@playwright/test';
import { test, openHydrated, postAsPage, signUp, uniqueEmail } from './helpers';

async function trainedCharacter(page: Page, name: string, prompt: string) {
  const res = await postAsPage(page, '/api/a2e/character', { name, prompt, waitForAvatar: true });
  expect(res.status()).toBe(201);
  const character = await res.json();
  expect(character.avatar_status).toBe('completed');
  return character;
}

async function sketch(page: Page) {
  const canvas = page.getByTestId('sketch-canvas');
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + 40, box.y + 40);
  await page.mouse.down();
  await page.mouse.move(box.x + 200, box.y + 120, { steps: 8 });
  await page.mouse.move(box.x + 300, box.y + 60, { steps: 8 });
  await page.mouse.up();
}

test('two trained characters: sketch a scene, animate it, fight in three moves and watch it play', async ({ page }) => {
  await signUp(page, uniqueEmail('canvas'));
  await trainedCharacter(page, 'Red Ronin', 'a samurai in red armour');
  await trainedCharacter(page, 'Blue Monk', 'a calm monk in blue robes');
  await openHydrated(page, '/');

  const picker = page.getByTestId('character-picker');
  await expect(picker.getByTestId('avatar-badge')).toHaveCount(2);
  await picker.getByLabel('Use Red Ronin').check();
  await picker.getByLabel('Use Blue Monk').check();

  await page.getByLabel('Prompt').fill('the two face each other in a bamboo forest');
  await sketch(page);
  await expect(page.getByTestId('sketch-used')).toBeVisible();
  await page.getByRole('button', { name: /^Generate \(4 credits\)$/ }).click();

  const scene = page.locator('[data-testid="generation"][data-kind="scene"]');
  await expect(scene).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(scene.getByRole('img', { name: 'Generated scene' })).toBeVisible();
  await expect(scene.getByTestId('references')).toHaveText('With Red Ronin (avatar), Blue Monk (avatar)');

  await scene.getByRole('button', { name: 'Animate' }).click();
  await scene.getByLabel('What happens').fill('they bow to each other');
  await scene.getByRole('button', { name: /Animate \(8 credits\)/ }).click();
  const clip = page.locator('[data-testid="generation"][data-kind="image_to_video"]');
  await expect(clip).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  // The clip is a real video Chromium can decode.
  await expect.poll(() => clip.locator('video').evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
  expect(await clip.locator('video').evaluate((v: HTMLVideoElement) => v.duration)).toBeGreaterThan(0);

  const moves = ['a high kick', 'a sweeping staff strike', 'both leap into the air'];
  for (const [i, move] of moves.entries()) {
    if (i > 0) await page.getByRole('button', { name: 'Add move' }).click();
    await page.getByLabel(`Move ${i + 1}`, { exact: true }).fill(move);
  }
  await page.getByRole('button', { name: 'Start fight (36 credits)' }).click();
  const fight = page.locator('[data-testid="generation"][data-kind="fight_sequence"]');
  await expect(fight).toHaveAttribute('data-status', 'completed', { timeout: 90_000 });
  const player = fight.getByTestId('sequence-video');
  // It plays: time moves within a clip, and the next move's clip follows the first.
  await expect.poll(() => player.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 20_000 }).toBeGreaterThan(0);
  await expect(player).toHaveAttribute('data-clip', '1', { timeout: 20_000 });
  await expect(fight.getByRole('button', { name: 'Move 3' })).toBeVisible();

  const credits = 300 - 2 * 2 - 4 - 8 - 36;
  await expect(page.getByTestId('credits')).toHaveText(`${credits} credits`);
});

test('a character without a trained avatar can be used by its image; failures show the reason and Retry works', async ({ page, request }) => {
  await signUp(page, uniqueEmail('canvas2'));
  // Make the next training fail, so this character stays without an avatar.
  await request.post('/a2e-sim/_simulator/fail-next-training', { data: { reason: 'Blurry face' } });
  const res = await postAsPage(page, '/api/a2e/character', { name: 'Blurry Bob', prompt: 'a man in the fog' });
  expect(res.status()).toBe(201);
  await openHydrated(page, '/');
  const bob = page.getByTestId('character-picker').locator('[data-name="Blurry Bob"]');
  await expect(bob.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'failed', { timeout: 60_000 });
  await bob.getByLabel('Use Blurry Bob').check();
  // A failed avatar never comes: the image is used, nothing waits for it.
  await expect(bob).toContainText('Its avatar training failed: its image is used.');
  await expect(bob.getByRole('button', { name: 'Wait for the avatar' })).toHaveCount(0);
  await page.getByLabel('Prompt').fill('Bob walks through the fog');

  await request.post('/a2e-sim/_simulator/faults', { data: { rate: 1.0, kinds: ['moderation'] } });
  await page.getByRole('button', { name: /^Generate/ }).click();
  const failed = page.locator('[data-testid="generation"][data-status="failed"]');
  await expect(failed).toBeVisible({ timeout: 60_000 });
  await expect(failed).toContainText("A2E's content rules refused this request");
  await expect(failed.getByTestId('references')).toHaveText('With Blurry Bob (image)');
  await request.post('/a2e-sim/_simulator/faults', { data: { rate: 0, kinds: [] } });

  await failed.getByRole('button', { name: /Retry/ }).click();
  await expect(page.locator('[data-testid="generation"][data-kind="scene"][data-status="completed"]')).toBeVisible({ timeout: 60_000 });

  // The training can be retried from the picker, and then its avatar is trained.
  await bob.getByRole('button', { name: 'Retry training' }).click();
  await expect(bob.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
});

test('one picked character speaks typed text and moves like one of my own videos', async ({ page, request }) => {
  await signUp(page, uniqueEmail('canvas3'));
  await trainedCharacter(page, 'Singer', 'a singer with green hair');
  // A finished video of the user's own, to drive the motion transfer from.
  const clipRes = await postAsPage(page, '/api/a2e/i2v', { image: (await trainedCharacter(page, 'Dancer', 'a dancer in white')).image_url, prompt: 'spins around' });
  expect(clipRes.status()).toBe(202);
  await openHydrated(page, '/');
  await expect(page.locator('[data-testid="generation"][data-kind="image_to_video"]')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });

  await page.getByTestId('character-picker').getByLabel('Use Singer').check();
  const actions = page.locator('.picked-actions');
  await expect(actions).toContainText('With Singer:');

  await actions.getByRole('button', { name: 'Lipsync' }).click();
  const words = `Hello from the studio ${Date.now()}`;
  await actions.getByLabel('Text to speak').fill(words);
  // A2E's voices (the simulator lists a few), grouped by language.
  await actions.getByLabel('Voice').selectOption({ label: 'George (male) · English (UK)' });
  await actions.getByRole('button', { name: 'Make it speak (6 credits)' }).click();
  const talk = page.locator('[data-testid="generation"][data-kind="lipsync"]');
  await expect(talk).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  const spoken = (await (await request.get("/a2e-sim/_simulator/requests")).json()).requests
    .filter((r: any) => r.path === '/api/v1/video/send_tts' && r.body.msg === words);
  expect(spoken.map((r: any) => r.body.tts_id)).toEqual(['en-GB-male-1']);
  await expect(talk.getByTestId('references')).toHaveText('With Singer (avatar)');
  await expect.poll(() => talk.locator('video').evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);

  await actions.getByRole('button', { name: 'Motion transfer' }).click();
  await actions.getByLabel('…or one of your videos').selectOption({ label: 'Animation 1' });
  await actions.getByRole('button', { name: 'Transfer motion (10 credits)' }).click();
  const moved = page.locator('[data-testid="generation"][data-kind="motion_transfer"]');
  await expect(moved).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(moved.getByTestId('references')).toHaveText('With Singer (avatar)');
  await expect.poll(() => moved.locator('video').evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
  // The driving video chosen above is not lipsync audio: each action keeps its own inputs.
  await actions.getByRole('button', { name: 'Lipsync' }).click();
  await expect(actions.getByLabel('Text to speak')).toBeVisible();
  await expect(actions.getByTestId('audio-chosen')).toHaveCount(0);

  await expect(page.getByTestId('credits')).toHaveText(`${300 - 2 * 2 - 8 - 6 - 10} credits`);
});

test('with many characters the picker shows the most used page and search finds the rest', async ({ page }) => {
  test.setTimeout(240_000);
  await signUp(page, uniqueEmail('crowd'));
  for (let batch = 0; batch < 5; batch++) {
    const made = await Promise.all(Array.from({ length: 10 }, (_, i) => {
      const n = String(batch * 10 + i + 1).padStart(2, '0');
      return postAsPage(page, '/api/a2e/character', { name: `Crowd ${n}`, prompt: 'a crowd member' });
    }));
    for (const res of made) expect(res.status()).toBe(201);
  }
  await openHydrated(page, '/');
  const picker = page.getByTestId('character-picker');
  await expect(picker.getByTestId('pick')).toHaveCount(48);
  await expect(page.getByTestId('picker-more')).toContainText('search to find the others');
  // One of them, found by searching, picked, and still picked once the search is cleared.
  await page.getByLabel('Find a character').fill('Crowd 07');
  await expect(picker.getByTestId('pick')).toHaveCount(1);
  await picker.getByLabel('Use Crowd 07').check();
  await expect(page.locator('.picked-actions')).toContainText('With Crowd 07:');
  // Cleared: the most used page again, with the picked one kept in it wherever it stands.
  await page.getByLabel('Find a character').fill('');
  await expect(page.getByTestId('picker-more')).toBeVisible();
  await expect(picker.getByLabel('Use Crowd 07')).toBeChecked();
  expect(await picker.getByTestId('pick').count()).toBeLessThanOrEqual(49);
  await expect(page.locator('.picked-actions')).toContainText('With Crowd 07:');
});
