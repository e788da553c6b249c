/**
 * A zero in a spec's sizes (a broadcast operand's stride) is structure: specs that differ
 * in where their zeros are never share a size-generic kernel, so a broadcast load stays a
 * constant of the text instead of a stride parameter.
 */
import { describe, expect, it } from 'vitest';
import { jsProgram } from '../../../compiler/codegen/js-program.js';
import type { MapSpec } from '../../../compiler/kernel.js';
import { familyKey } from '../../../compiler/sizes.js';

/** out = x + y over n elements, y read with stride `yStride` (0: one value broadcast). */
function addSpec(n: number, yStride: number): MapSpec {
  return {
    kind: 'map', shape: [n], dtypes: ['float32', 'float32', 'float32'], strides: [[1], [1], [yStride]],
    body: [{ op: 'load', arg: 1 }, { op: 'load', arg: 2 }, { op: 'prim', prim: 'add', args: [0, 1], dtype: 'float32' }],
    stores: [{ arg: 0, node: 2 }],
  };
}

describe('zero sizes on the CPU', () => {
  it('a broadcast member after a full one renders with its constant stride', () => {
    const full = addSpec(48, 1), broadcast = addSpec(48, 0);
    expect(familyKey(full), 'one family by its erased sizes').toBe(familyKey(broadcast));
    jsProgram(full);
    const program = jsProgram(broadcast);
    expect(program.sizes, 'no size parameters').toEqual([]);
    expect(program.source).toContain('return function map(b0, b1, b2, o0, o1, o2)');
  });

  it('members with zeros in the same places still share a size-generic kernel', () => {
    jsProgram(addSpec(36, 0));
    const generic = jsProgram(addSpec(52, 0));
    expect(generic.sizes, 'only the length is a parameter').toEqual([52]);
    expect(jsProgram(addSpec(60, 0)).source).toBe(generic.source);
  });
});
