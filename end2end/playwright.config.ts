import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';

// The server under test is the debug binary built by `cargo leptos build`, started fresh on its
// own port with a throwaway SQLite database and the built-in A2E simulator (no key set).
const port = Number(process.env.E2E_PORT ?? 3117);
const dataDir = process.env.E2E_DATA_DIR ?? path.join(os.tmpdir(), 'avatar-studio-e2e');
const baseURL = `http://127.0.0.1:${port}`;
// `./dev release` sets E2E_BINARY to the release binary copied alone into an empty folder: it
// serves the site embedded in itself, so no LEPTOS_SITE_ROOT is given.
const binary = process.env.E2E_BINARY;
const siteRoot: Record<string, string> = binary ? {} : { LEPTOS_SITE_ROOT: 'target/site' };

export default defineConfig({
  testDir: './tests',
  timeout: 90_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  // One retry, reported as "flaky" in the summary (and by `./dev test`), never hidden: these
  // machines are shared and slow at times. The server-rendered stream stall this once covered
  // (leptos-rs/leptos#4578/#4851) is avoided in src/app/session.rs: 600 page loads at 20 at
  // a time all completed after that change.
  retries: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL,
    // Scripts in the tests (page.request) post as the site's pages do: with its Origin.
    extraHTTPHeaders: { Origin: baseURL },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    // The server's log goes to a file beside its database, to keep the test report readable.
    // No A2E key at all (not even an empty one, which is refused): demo mode, whatever the
    // developer's environment holds.
    command: `exec env -u A2E_API_KEY -u A2E_API_TOKEN -u LEPTOS_SITE_ROOT ${binary ?? 'target/debug/avatar-studio'} >> ${dataDir}/server.log 2>&1`,
    cwd: binary ? path.dirname(binary) : '..',
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    env: {
      ...siteRoot,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite://${dataDir}/e2e.db?mode=rwc`,
      MEDIA_DIR: `${dataDir}/media`,
      SIMULATOR_CONTROLS: 'true',
      A2E_SIMULATOR_SPEEDUP: process.env.A2E_SIMULATOR_SPEEDUP ?? '60',
      SIGNUP_CREDITS: '300',
      // Every test signs up from the same address; log-in limits have Rust tests of their own.
      LOGIN_RATE_PER_MIN: '0',
      RUST_LOG: process.env.RUST_LOG ?? 'info',
    },
  },
});
