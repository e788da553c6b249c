/**
 * Files that each hold one idea: no source module of src/, compiler/ or runtime/ runs past
 * 600 lines (a file that grows past it is split along its seams, as the WGSL renderer was).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modulesUnder, root } from './module-graph.js';

const LIMIT = 600;

describe('source files', () => {
  it(`stay under ${LIMIT} lines`, () => {
    const modules = modulesUnder('src', 'compiler', 'runtime');
    expect(modules.length).toBeGreaterThan(100);
    const long = modules
      .map((file) => ({ file, lines: readFileSync(join(root, file), 'utf8').split('\n').length }))
      .filter((f) => f.lines > LIMIT);
    expect(long).toEqual([]);
  });
});
