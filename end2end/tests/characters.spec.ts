import { expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, openHydrated, signUp, uniqueEmail } from './helpers';

async function createByPrompt(page: Page, name: string, prompt: string) {
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Description').fill(prompt);
  await page.getByLabel('Outfit').fill('a green travelling cloak');
  await page.getByRole('button', { name: 'Create character' }).click();
}

function card(page: Page, name: string) {
  return page.getByTestId('character-card').filter({ has: page.getByRole('heading', { name }) });
}

test('a character made from a prompt trains its avatar by itself, live', async ({ page }) => {
  await signUp(page, uniqueEmail('chars'));
  await openHydrated(page, '/characters');
  await createByPrompt(page, 'Captain Mira', 'a confident space pilot with silver hair');

  const mira = card(page, 'Captain Mira');
  await expect(mira.getByRole('img', { name: 'Portrait of Captain Mira' })).toBeVisible();
  await expect(mira.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'training');
  await expect(mira.getByRole('progressbar')).toBeVisible();
  await expect(page.getByTestId('credits')).toHaveText('298 credits');
  // No reload: the badge moves on through the live event stream.
  await expect(mira.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(mira.getByText('Avatar: trained')).toBeVisible();
});

test('a failed training shows A2E\'s reason, and Retry trains again', async ({ page, request }) => {
  await signUp(page, uniqueEmail('fail'));
  await openHydrated(page, '/characters');
  const reason = 'The image must show exactly one face';
  const armed = await request.post('/a2e-sim/_simulator/fail-next-training', { data: { reason } });
  expect(armed.ok()).toBeTruthy();
  await createByPrompt(page, 'Twin Trouble', 'two faces in one picture');

  const twin = card(page, 'Twin Trouble');
  await expect(twin.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'failed', { timeout: 60_000 });
  await expect(twin.getByText(reason)).toBeVisible();

  await twin.getByRole('button', { name: 'Retry training' }).click();
  await expect(twin.getByTestId('avatar-badge')).toHaveAttribute('data-status', /training|completed/);
  await expect(twin.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
});

test('continue training shows its price, charges 100 credits, and delete removes the card', async ({ page }) => {
  await signUp(page, uniqueEmail('cont'));
  await openHydrated(page, '/characters');
  await createByPrompt(page, 'Old Sage', 'an old sage with a long white beard');
  const sage = card(page, 'Old Sage');
  await expect(sage.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(page.getByTestId('credits')).toHaveText('298 credits');

  // Confirmation steps are disclosures (<summary>), so they work before the script loads.
  await sage.getByTestId('continue-training').click();
  await expect(sage.getByRole('dialog')).toContainText('costs 100 credits');
  // Escape steps back, focus on the step's own control, which opens it again from the keyboard;
  // its Cancel button steps back too.
  await page.keyboard.press('Escape');
  await expect(sage.getByRole('dialog')).toHaveCount(0);
  await expect(sage.getByTestId('continue-training')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(sage.getByRole('dialog')).toContainText('costs 100 credits');
  await sage.getByRole('dialog').getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(sage.getByRole('dialog')).toHaveCount(0);
  await sage.getByTestId('continue-training').click();
  await expect(sage.getByRole('dialog')).toContainText('costs 100 credits');
  await sage.getByRole('button', { name: 'Spend 100 credits' }).click();
  await expect(sage.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'training');
  await expect(sage.getByText('Avatar: continuing training')).toBeVisible();
  await expect(page.getByTestId('credits')).toHaveText('198 credits');

  await sage.getByTestId('delete-character').click();
  await expect(sage.getByRole('dialog')).toContainText('Delete Old Sage?');
  await sage.getByRole('button', { name: 'Delete for good' }).click();
  await expect(card(page, 'Old Sage')).toHaveCount(0);
  await page.reload();
  await expect(page.getByText('No characters yet')).toBeVisible();
});

test('an uploaded image becomes a character without a charge; a fake one is refused', async ({ page }) => {
  await signUp(page, uniqueEmail('upload'));
  await openHydrated(page, '/characters');
  await page.getByRole('tab', { name: 'Upload image' }).click();
  await page.getByLabel('Name').fill('Photo Me');
  await page.getByLabel('Image').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: Buffer.from('text dressed up as a png') });
  await page.getByRole('button', { name: 'Upload and train' }).click();
  await expect(page.getByRole('alert')).toContainText('Upload a PNG, JPEG, WebP or GIF image');

  // Pre-flight: too small to see a face, refused before anything is kept or sent to A2E.
  const onePixelPng = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  await page.getByLabel('Image').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: onePixelPng });
  await page.getByRole('button', { name: 'Upload and train' }).click();
  await expect(page.getByRole('alert')).toContainText('This image is 1×1 pixels: A2E needs at least 256 pixels on each side');

  const portrait = execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=gray:s=320x400',
    '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1']);
  await page.getByLabel('Image').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: portrait });
  await page.getByRole('button', { name: 'Upload and train' }).click();
  const me = card(page, 'Photo Me');
  await expect(me.getByTestId('avatar-badge')).toHaveAttribute('data-status', /training|completed/);
  await expect(page.getByTestId('credits')).toHaveText('300 credits');
});

test('an uploaded video becomes a video-trained character that trains to the end', async ({ page }) => {
  await signUp(page, uniqueEmail('video'));
  await openHydrated(page, '/characters');
  await page.getByRole('tab', { name: 'Upload video' }).click();
  await page.getByLabel('Name').fill('Clip Me');
  // A real two-second WebM clip, made here with Debian's ffmpeg (the test command installs it):
  // A2E trains from MP4 or MOV of 10 seconds or more, so the pre-flight says what to change.
  const webm = execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=160x120:rate=10',
    '-c:v', 'libvpx', '-f', 'webm', 'pipe:1']);
  await page.getByLabel('Video').setInputFiles({ name: 'me.webm', mimeType: 'video/webm', buffer: webm });
  await page.getByRole('button', { name: 'Upload and train' }).click();
  await expect(page.getByRole('alert')).toContainText('A2E trains avatars from MP4 or MOV videos');
  // An MP4 written to a file (a piped one is fragmented, with no length in its header).
  const mp4Path = join(mkdtempSync(join(tmpdir(), 'clip-')), 'me.mp4');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=10:size=640x360:rate=5',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', mp4Path]);
  await page.getByLabel('Video').setInputFiles({ name: 'me.mp4', mimeType: 'video/mp4', buffer: readFileSync(mp4Path) });
  await page.getByRole('button', { name: 'Upload and train' }).click();
  const me = card(page, 'Clip Me');
  await expect(me).toContainText('Trained from video');
  await expect(me.locator('video.portrait, img.portrait')).toBeVisible();
  await expect(me.getByTestId('avatar-badge')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(page.getByTestId('credits')).toHaveText('300 credits');
});

test('a large upload shows its progress while it goes', async ({ page }) => {
  await signUp(page, uniqueEmail('progress'));
  await openHydrated(page, '/characters');
  await page.getByRole('tab', { name: 'Upload image' }).click();
  await page.getByLabel('Name').fill('Slow Upload');
  // A slow link: 4 MB at about 1 MB/s.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 1024 * 1024 });
  // A PNG header saying 320×400 (what the pre-flight reads), then 4 MB of filler.
  const header = '89504e470d0a1a0a' + '0000000d49484452' + '0000014000000190' + '0800000000' + '00000000';
  const big = Buffer.concat([Buffer.from(header, 'hex'), Buffer.alloc(4 * 1024 * 1024, 7)]);
  await page.getByLabel('Image').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: big });
  await page.getByRole('button', { name: 'Upload and train' }).click();
  const bar = page.getByTestId('upload-progress');
  await expect(bar).toBeVisible();
  await expect(bar).toContainText(/Uploading… [1-9]\d?%/);
  await expect(bar).toBeHidden({ timeout: 60_000 });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await expect(card(page, 'Slow Upload')).toBeVisible();
});
