/**
 * Loop kernels (LoopSpec, see compiler/loop-kernel.ts) as WGSL: one invocation keeps the
 * loop variables in registers and runs condition and body until the condition is false,
 * then stores the variables and the iteration count. A loop that reaches the spec's
 * iteration cap stops and reports it through the status buffer, which the next readback
 * turns into an error naming the cap: a runaway loop must not hang the device.
 */
import { InternalError } from '../../../runtime/errors.js';
import type { LoopSpec } from '../../kernel.js';
import { wgslStorageType, wgslType, type GpuDType } from '../wgsl-prims.js';
import { HelperSet, type UseHelper } from '../wgsl-helpers.js';
import { nodeTypes, renderBody, type BodyAccess } from './body.js';
import { assemble, fromStorage, gpuDType, indent, int, STATUS_LOOP, toStorage, u32 } from './common.js';
import type { WgslBinding, WgslKernel } from './types.js';
import { Uniforms } from './uniforms.js';

/** The truth of a condition value as a WGSL bool: nonzero and not NaN, as a `while` reads a tensor. */
function truth(v: string, dtype: GpuDType, use: UseHelper): string {
  switch (dtype) {
    case 'float32': return `(${v} != 0.0 && !${use('k_isnan')}(${v}))`;
    case 'int32': case 'uint8': return `(${v} != 0i)`;
    case 'bool': return `(${v} != 0u)`;
    // float16 is held as its f32 value on WebGPU.
    case 'float16': return `(${v} != 0.0 && !${use('k_isnan')}(${v}))`;
  }
}

/** The WGSL of a loop kernel: one workgroup of one invocation. */
export function renderLoop(spec: LoopSpec): WgslKernel {
  const { carried, invariants } = spec;
  const nArgs = spec.dtypes.length;
  if (nArgs !== 2 * carried + 1 + invariants) {
    throw new InternalError('wgsl: a loop kernel\'s args do not match its variables');
  }
  const argTypes = spec.dtypes.map((d, a) => gpuDType(d, `arg ${a}`));
  if (argTypes[carried] !== 'int32') throw new InternalError('wgsl: a loop kernel counts its iterations in int32');
  const varTypes = argTypes.slice(carried + 1, 2 * carried + 1);
  const readTypes = [...varTypes, ...argTypes.slice(2 * carried + 1)];
  const condTypes = nodeTypes(spec.cond, readTypes);
  const bodyTypes = nodeTypes(spec.body, [...readTypes, ...spec.exports.map((x) => condTypes[x]!)]);
  spec.results.forEach((x, j) => {
    if (bodyTypes[x] !== varTypes[j]) {
      throw new InternalError(`wgsl: loop variable ${j} is ${varTypes[j]}, its next value ${bodyTypes[x]}`);
    }
  });

  const uniforms = new Uniforms(nArgs);
  const helpers = new HelperSet();
  const at = (a: number) => `b${int(a)}[${uniforms.offset(a)}]`;
  // Loop variables, then invariants (read from their buffers where the loop uses them).
  const read = (j: number) => (j < carried ? `s${int(j)}` : at(j + carried + 1));
  const condAccess: BodyAccess = { load: read, index: (j) => uniforms.offset(j + carried + 1), position: '0i' };
  const bodyAccess: BodyAccess = {
    load: (j) => (j < carried + invariants ? read(j) : `c${int(spec.exports[j - carried - invariants]!)}`),
    index: (j) => uniforms.offset(j + carried + 1),
    position: '0i',
  };
  const cond = renderBody(spec.cond, condTypes, condAccess, uniforms, helpers.use, 'c');
  const body = renderBody(spec.body, bodyTypes, bodyAccess, uniforms, helpers.use, 'v');
  const go = truth(`c${int(spec.condValue)}`, condTypes[spec.condValue]!, helpers.use);
  const cap = u32(spec.maxIterations);

  const main: string[] = [];
  for (let j = 0; j < carried; j++) main.push(`var s${j}: ${wgslType(varTypes[j]!)} = ${fromStorage(varTypes[j]!, at(carried + 1 + j))};`);
  main.push('var n = 0u;', 'loop {');
  const stop = [
    ...spec.exits.map((x, j) => `${at(j)} = ${toStorage(argTypes[j]!, `c${int(x)}`)};`),
    `${at(carried)} = bitcast<i32>(n);`,
    'break;',
  ];
  main.push(...indent([
    ...cond,
    `let go = ${go};`,
    `if (!go || n >= ${cap}) {`,
    `  if (go) {`,
    `    k_fail(${int(STATUS_LOOP)}u, bitcast<i32>(n), ${cap});`,
    '  }',
    ...indent(stop),
    '}',
    ...body,
    ...spec.results.map((x, j) => `s${j} = v${int(x)};`),
    'n = n + 1u;',
  ]));
  main.push('}');

  const decls: string[] = [];
  const bindings: WgslBinding[] = [];
  for (let a = 0; a < nArgs; a++) {
    const writable = a <= carried;
    const access = writable ? 'read_write' : 'read';
    decls.push(`@group(0) @binding(${a}) var<storage, ${access}> b${a}: array<${wgslStorageType(argTypes[a]!)}>;`);
    bindings.push({ kind: 'storage', arg: a, dtype: argTypes[a]!, writable });
  }
  const code = assemble(decls, uniforms, nArgs, true, helpers, [], '@compute @workgroup_size(1)', 'fn main() {', main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 }, { kind: 'status' });
  return {
    code, workgroupSize: 1, bindings, vectorWidth: 1,
    dispatch: (offsets, scalars = []) => ({ workgroups: [1, 1, 1], uniforms: uniforms.pack(offsets, scalars) }),
  };
}
