import { expect } from '@playwright/test';
import { test, openHydrated, signUp, uniqueEmail } from './helpers';

// A phone: pages fit the width, and the sketch pad draws where the finger is.
test.use({ viewport: { width: 390, height: 844 } });

test('on a phone, pages do not scroll sideways and the sketch draws under the pointer', async ({ page }) => {
  await signUp(page, uniqueEmail('phone'));
  for (const path of ['/', '/characters', '/account']) {
    await openHydrated(page, path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
  }

  await openHydrated(page, '/');
  const pad = page.getByTestId('sketch-canvas');
  const box = (await pad.boundingBox())!;
  expect(box.width).toBeLessThan(480);
  // A line across the middle of the pad as shown…
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) {
    await page.mouse.move(box.x + box.width * (0.2 + 0.06 * i), box.y + box.height / 2);
  }
  await page.mouse.up();
  await expect(page.getByTestId('sketch-used')).toBeVisible();
  // …lands across the middle of the bitmap (480×270), not at the CSS pixel positions.
  const ink = await pad.evaluate((c: HTMLCanvasElement) => {
    const ctx = c.getContext('2d')!;
    const dark = (x: number, y: number) => {
      const [r, g, b] = ctx.getImageData(x, y, 1, 1).data;
      return r + g + b < 300;
    };
    return { middle: dark(300, 135), right: dark(360, 135) };
  });
  expect(ink).toEqual({ middle: true, right: true });
});
