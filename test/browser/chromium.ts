/**
 * Headless Chromium for the browser tests: Debian's `chromium` (scripts/setup-chromium.sh),
 * driven by playwright-core, which downloads nothing. WebGPU runs on the machine's Vulkan
 * driver (lavapipe without a GPU). A missing browser skips the tests, except where CI or
 * KILN_REQUIRE_BROWSER asks for it: then it is a failure, as a missing WebGPU adapter is.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The browser executable: $KILN_CHROMIUM, else Debian's. */
export const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';

/** True when the browser tests must run (CI, or KILN_REQUIRE_BROWSER=1). */
export const browserRequired = process.env.CI === 'true' || process.env.KILN_REQUIRE_BROWSER === '1';

/** True when the browser tests run: the executable exists, or they are required (and then fail without it). */
export const browserAvailable = existsSync(CHROMIUM) || browserRequired;

if (!existsSync(CHROMIUM) && !browserRequired) {
  console.warn(`[kiln] browser tests skipped: no Chromium at ${CHROMIUM} (bash scripts/setup-chromium.sh installs it)`);
}

const FLAGS = [
  '--no-sandbox',
  // WebGPU through Vulkan (ANGLE too), which finds lavapipe on a machine without a GPU.
  '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=vulkan',
  // Nothing but the test's own page goes over the network.
  '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Launches headless Chromium with a fresh profile. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run bash scripts/setup-chromium.sh (or set KILN_CHROMIUM)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}
