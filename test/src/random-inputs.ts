/**
 * Seeds for randomized op tests. Every run draws fresh inputs unless KILN_TEST_SEED pins the
 * run seed; a failing case reports the run seed, so its exact inputs can be replayed.
 */
import { rng } from '../helpers.js';

const pinned = process.env['KILN_TEST_SEED'];

/** This run's seed: pinned by KILN_TEST_SEED, else drawn fresh. */
export const runSeed = pinned !== undefined && pinned !== '' ? Number(pinned) >>> 0 : Math.floor(Math.random() * 2 ** 32) >>> 0;

/** A seed for one case: the run seed mixed with a hash of the case's label (FNV-1a). */
export function seedFor(label: string): number {
  let h = 0x811c9dc5 ^ runSeed;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Runs `body` with a generator seeded for `label`; a failure names the seed to replay it. */
export function withSeed(label: string, body: (next: () => number) => void): void {
  try {
    body(rng(seedFor(label)));
  } catch (e) {
    if (e instanceof Error) e.message = `${e.message}\n  random inputs of "${label}": rerun with KILN_TEST_SEED=${runSeed}`;
    throw e;
  }
}

/** An integer in lo..hi (inclusive). */
export function randInt(next: () => number, lo: number, hi: number): number {
  return lo + Math.floor(next() * (hi - lo + 1));
}

/** A random shape of rank `lo..hi` with dims in `1..maxDim`. */
export function randShape(next: () => number, lo: number, hi: number, maxDim = 5): number[] {
  const rank = randInt(next, lo, hi);
  return Array.from({ length: rank }, () => randInt(next, 1, maxDim));
}
