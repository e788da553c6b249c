/** Where the bundled datasets live, found from this module's own location. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../../runtime/errors.js';

let cached: string | undefined;

/**
 * The package's `data/` folder: the `data` folder next to the nearest package.json above
 * this module. Walking up, rather than a fixed `../../data`, keeps it right both from the
 * sources (src/data/) and from compiled output (dist/src/data/), which sit at different depths.
 */
export function dataDir(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return (cached = join(dir, 'data'));
    const parent = dirname(dir);
    if (parent === dir) throw new KilnError(`dataDir: no package.json above ${fileURLToPath(import.meta.url)}, so the bundled data folder cannot be found; pass a path`);
    dir = parent;
  }
}

/** A file in the bundled data folder. */
export function dataPath(...parts: string[]): string {
  return join(dataDir(), ...parts);
}
