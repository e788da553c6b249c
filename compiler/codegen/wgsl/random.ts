/** Random kernels: uniform float32 from Philox4x32-10, the numbers compiler/random/philox.ts draws on the CPU. */
import { DEFAULT_WG, assemble, grid, int, linear, pow2AtMost, product, sizeU32 } from './common.js';
import { HelperSet } from '../wgsl-helpers.js';
import { InternalError } from '../../../runtime/errors.js';
import type { RandomSpec } from '../../kernel.js';
import { Uniforms } from './uniforms.js';
import type { WgslKernel, WgslLimits, WgslOptions } from './types.js';
import { validateSeed } from '../../random/philox.js';

/**
 * Philox4x32-10 line for line as compiler/random/philox.ts specifies: mulhi from 16-bit
 * halves (the k_mulhi helper), wrapping u32 products for the low words.
 */
const PHILOX = [
  `fn k_philox(c: vec4<u32>, key: vec2<u32>) -> vec4<u32> {`,
  `  var x = c;`,
  `  var k = key;`,
  `  for (var r = 0u; r < 10u; r++) {`,
  `    let hi0 = k_mulhi(0xd2511f53u, x.x);`,
  `    let lo0 = 0xd2511f53u * x.x;`,
  `    let hi1 = k_mulhi(0xcd9e8d57u, x.z);`,
  `    let lo1 = 0xcd9e8d57u * x.z;`,
  `    x = vec4<u32>(hi1 ^ x.y ^ k.x, lo1, hi0 ^ x.w ^ k.y, lo0);`,
  `    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);`,
  `  }`,
  `  return x;`,
  `}`,
];

export function renderRandom(spec: RandomSpec, limits: WgslLimits, options: WgslOptions): WgslKernel {
  const size = product([spec.size]);
  if (size > 4294967296 - 16) throw new InternalError('wgsl: random size too large');
  // One invocation per Philox block: the run of `size` elements starting at a stream offset
  // with phase offset % 4 touches at most ceil((size + 3) / 4) blocks.
  const blocks = Math.ceil((size + 3) / 4);
  const wg = pow2AtMost(Math.min(options.workgroupSize ?? DEFAULT_WG, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX));
  const workgroups = grid(Math.ceil(blocks / wg), limits);
  const yUsed = workgroups[1] > 1;
  const uniforms = new Uniforms(1, options.sizes);
  // Size words first: the key and counter words are reserved after every other slot.
  const count = sizeU32(uniforms.size(spec, 'size'));
  const blockCount = sizeU32(uniforms.derived('Dblocks', blocks, uniforms.isSymbolic(spec, 'size')));
  const key = uniforms.reserve(4);
  const w = (i: number) => Uniforms.word(key + i);
  const main = [
    `let j = ${linear('gid3', workgroups[0] * wg, yUsed)};`,
    `if (j >= ${blockCount}) {`, `  return;`, `}`,
    `let off_lo = ${w(2)};`,
    `let off_hi = ${w(3)};`,
    `let phase = off_lo & 3u;`,
    // The first block (offset >> 2) as two words, plus j with a carry, as the CPU stream does.
    `let f0 = (off_lo >> 2u) | (off_hi << 30u);`,
    `let c0 = f0 + j;`,
    `let c1 = (off_hi >> 2u) + select(0u, 1u, c0 < f0);`,
    `let x = k_philox(vec4<u32>(c0, c1, 0u, 0u), vec2<u32>(${w(0)}, ${w(1)}));`,
    `let o0 = ${uniforms.offset(0)};`,
    `for (var t = 0u; t < 4u; t++) {`,
    `  let e = j * 4u + t;`,
    `  if (e >= phase && e - phase < ${count}) {`,
    // 24 high bits times 2^-24: exact in f32, in [0, 1).
    `    b0[o0 + e - phase] = f32(x[t] >> 8u) * 5.9604644775390625e-8;`,
    `  }`,
    `}`,
  ];
  const decls = [`@group(0) @binding(0) var<storage, read_write> b0: array<f32>;`];
  const helpers = new HelperSet();
  helpers.use('k_mulhi');
  const code = assemble(decls, uniforms, 1, false, helpers, PHILOX, `@compute @workgroup_size(${int(wg)})`,
    `fn main(@builtin(global_invocation_id) gid3: vec3<u32>) {`, main);
  return {
    code, workgroupSize: wg, vectorWidth: 1,
    bindings: [{ kind: 'storage', arg: 0, dtype: 'float32', writable: true }, { kind: 'uniform', bytes: uniforms.words * 4 }],
    dispatch(offsets, scalars = []) {
      const [seed, offset] = scalars;
      validateSeed(seed, 'random');
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || offset + size > Number.MAX_SAFE_INTEGER) {
        throw new RangeError(`random: offset must be a non-negative safe integer with offset + size <= 2^53 - 1 (got ${String(offset)})`);
      }
      const words = uniforms.pack(offsets, []);
      words[key] = seed >>> 0;
      words[key + 1] = Math.floor(seed / 4294967296);
      words[key + 2] = offset >>> 0;
      words[key + 3] = Math.floor(offset / 4294967296);
      return { workgroups: size === 0 ? [0, 1, 1] : workgroups, uniforms: words };
    },
  };
}
