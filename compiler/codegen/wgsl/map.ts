/** Elementwise map kernels: one invocation per element (or per four, vectorized). */
import { type BodyAccess, nodeTypes, renderBody } from './body.js';
import {
  DEFAULT_WG, STATUS_SCATTER, affine, assemble, coordinates, gpuDType, grid, indent, int, linear, pow2AtMost,
  product, sizeU32, type SizeText,
} from './common.js';
import { wgslType } from '../wgsl-prims.js';
import { HelperSet } from '../wgsl-helpers.js';
import { InternalError } from '../../../runtime/errors.js';
import type { MapSpec } from '../../kernel.js';
import { Uniforms } from './uniforms.js';
import type { WgslBinding, WgslKernel, WgslLimits, WgslOptions } from './types.js';

/**
 * A map kernel. Sizes that `options.sizes` marks symbolic are read from uniform words, and so are
 * the numbers derived from them (the invocation count, a vec4 row's length); decisions
 * that depend on a value (vec4 access, zero strides, a 2-D grid) use the member's own.
 */
export function renderMap(spec: MapSpec, limits: WgslLimits, options: WgslOptions): WgslKernel {
  const nArgs = spec.dtypes.length;
  const argTypes = spec.dtypes.map((d, a) => gpuDType(d, `arg ${a}`));
  const types = nodeTypes(spec.body, argTypes);
  const shape = spec.shape;
  const total = product(shape);
  const rank = shape.length;
  if (spec.strides.length !== nArgs || spec.strides.some((s) => s.length !== rank)) throw new InternalError('wgsl: map strides do not match its args and shape');

  const stored = new Set(spec.stores.map((s) => s.arg));
  const loaded = new Set<number>();
  for (const e of spec.body) if (e.op === 'load' || e.op === 'gatherLoad') loaded.add(e.arg);
  const atomicArgs = new Set(spec.stores.filter((s) => s.scatter?.accumulate).map((s) => s.arg));
  for (const a of atomicArgs) {
    if (argTypes[a] === 'bool') throw new InternalError('wgsl: accumulating scatter into bool');
    if (loaded.has(a)) throw new InternalError(`wgsl: arg ${a} is both read and scatter-accumulated`);
  }
  const checks = spec.body.some((e) => e.op === 'gatherLoad') || spec.stores.some((s) => s.scatter !== undefined);
  const storageCount = nArgs + (checks ? 1 : 0);
  if (storageCount > limits.maxStorageBuffersPerShaderStage) {
    throw new InternalError(`wgsl: a map kernel needs ${storageCount} storage buffers, the device allows ${limits.maxStorageBuffersPerShaderStage}`);
  }

  // vec4: every arg walks the last dim contiguously (or not at all), outputs contiguously,
  // and every vec4 arg's other strides keep its index a multiple of 4.
  const last = rank - 1;
  const vecArg = (a: number) => spec.strides[a]![last] === 1;
  const vectorize = options.alignedOffsets === true && !checks && rank > 0 && shape[last]! % 4 === 0 && shape[last]! >= 4 &&
    spec.strides.every((s, a) => (s[last] === 1 || (s[last] === 0 && !stored.has(a))) && (s[last] === 0 || s.every((x, d) => d === last || (x >= 0 && x % 4 === 0))));
  const width: 1 | 4 = vectorize ? 4 : 1;

  const wg = pow2AtMost(Math.min(options.workgroupSize ?? DEFAULT_WG, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX));
  const invocations = total / width;
  const workgroups = grid(Math.ceil(invocations / wg), limits);
  const yUsed = workgroups[1] > 1;

  const uniforms = new Uniforms(nArgs, options.sizes);
  const helpers = new HelperSet();
  const symbolicShape = shape.some((_, d) => uniforms.isSymbolic(shape, d));
  const dims: SizeText[] = shape.map((_, d) => uniforms.size(shape, d));
  const vecLength = uniforms.derived('Dvec', shape[last]! / 4, uniforms.isSymbolic(shape, last));
  const iterShape = vectorize ? [...dims.slice(0, last), vecLength] : dims;
  const { lines: coordLines, names } = coordinates(iterShape, 'gid', 'c');
  const count = sizeU32(uniforms.derived('Dcount', invocations, symbolicShape));
  const gidLine = yUsed && symbolicShape
    ? `let gid = gid3.x + gid3.y * ${sizeU32(uniforms.derived('Dxextent', workgroups[0] * wg, true))};`
    : `let gid = ${linear('gid3', workgroups[0] * wg, yUsed)};`;
  const main: string[] = [gidLine, `if (gid >= ${count}) {`, `  return;`, `}`, ...coordLines];

  // Each arg's index at this invocation: a vec4 index for vec4 args, an element index otherwise.
  for (let a = 0; a < nArgs; a++) {
    const base = vectorize && vecArg(a) ? `(${uniforms.offset(a)} >> 2u)` : uniforms.offset(a);
    const own = spec.strides[a]!;
    const strides = vectorize && vecArg(a)
      ? own.map((_, d): SizeText => (d === last ? 1 : uniforms.quarter(own, d)))
      : own.map((_, d) => uniforms.size(own, d));
    main.push(`let p${a} = ${affine(base, names, strides)};`);
  }

  const elementType = (a: number) => wgslType(argTypes[a]!);
  const bodyFor = (access: BodyAccess): string[] => {
    const lines = renderBody(spec.body, types, access, uniforms, helpers.use);
    for (const st of spec.stores) {
      const v = `v${int(st.node)}`;
      if (types[st.node] !== argTypes[st.arg]) throw new InternalError(`wgsl: node ${st.node} is ${types[st.node]}, arg ${st.arg} is ${argTypes[st.arg]}`);
      if (st.scatter === undefined) {
        lines.push(vectorize ? `r${st.arg}[j] = ${v};` : `b${int(st.arg)}[${access.index(st.arg)}] = ${v};`);
        continue;
      }
      const { index, accumulate } = st.scatter;
      const size = uniforms.size(st.scatter, 'size'), stride = uniforms.size(st.scatter, 'stride');
      if (types[index] !== 'int32') throw new InternalError(`wgsl: scatter index node ${index} is not int32`);
      const t = `t${int(st.node)}_${int(st.arg)}`;
      lines.push(`let ${t} = v${int(index)};`);
      lines.push(`if (${t} < 0i || u32(${t}) >= ${sizeU32(size)}) {`, `  k_fail(${STATUS_SCATTER}u, ${t}, ${sizeU32(size)});`, `} else {`);
      const target = `${access.index(st.arg)} + u32(${t}) * ${sizeU32(stride)}`;
      if (!accumulate) lines.push(`  b${int(st.arg)}[${target}] = ${v};`);
      else if (argTypes[st.arg] === 'int32') lines.push(`  atomicAdd(&b${int(st.arg)}[${target}], ${v});`);
      else {
        // No float atomics in WGSL, and atomicAdd would not wrap uint8: add by compare-and-swap,
        // retrying on contention.
        const old = `old${t}`;
        const added = `bitcast<f32>(${old}) + ${v}`;
        const sum = argTypes[st.arg] === 'uint8' ? `(${old} + ${v}) & 255`
          : `bitcast<u32>(${argTypes[st.arg] === 'float16' ? `${helpers.use('k_f16')}(${added})` : added})`;
        lines.push(
          `  let q${t} = ${target};`,
          `  var old${t} = atomicLoad(&b${int(st.arg)}[q${t}]);`,
          `  loop {`,
          `    let r${t} = atomicCompareExchangeWeak(&b${int(st.arg)}[q${t}], old${t}, ${sum});`,
          `    if (r${t}.exchanged) {`,
          `      break;`,
          `    }`,
          `    old${t} = r${t}.old_value;`,
          `  }`,
        );
      }
      lines.push(`}`);
    }
    return lines;
  };

  const position = names.length ? names[names.length - 1]! : '0u';
  if (vectorize) {
    for (const a of loaded) if (vecArg(a)) main.push(`let l${a} = b${a}[p${a}];`);
    for (const a of stored) main.push(`var r${a}: vec4<${elementType(a)}>;`);
    main.push(`for (var j = 0u; j < 4u; j++) {`);
    main.push(...indent(bodyFor({
      load: (a) => (vecArg(a) ? `l${a}[j]` : `b${int(a)}[p${a}]`),
      index: (a) => `p${a}`,
      position: `i32(${position} * 4u + j)`,
    })));
    main.push(`}`);
    for (const a of stored) main.push(`b${a}[p${a}] = r${a};`);
  } else {
    main.push(...bodyFor({ load: (a) => `b${int(a)}[p${a}]`, index: (a) => `p${a}`, position: `i32(${position})` }));
  }

  const decls: string[] = [];
  const bindings: WgslBinding[] = [];
  for (let a = 0; a < nArgs; a++) {
    const writable = stored.has(a);
    const t = elementType(a);
    const elem = atomicArgs.has(a) ? `atomic<${wgslType(argTypes[a]!) === 'i32' ? 'i32' : 'u32'}>` : vectorize && vecArg(a) ? `vec4<${t}>` : t;
    decls.push(`@group(0) @binding(${a}) var<storage, ${writable ? 'read_write' : 'read'}> b${a}: array<${elem}>;`);
    bindings.push({ kind: 'storage', arg: a, dtype: argTypes[a]!, writable });
  }
  const code = assemble(decls, uniforms, nArgs, checks, helpers, [], `@compute @workgroup_size(${int(wg)})`,
    `fn main(@builtin(global_invocation_id) gid3: vec3<u32>) {`, main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 });
  if (checks) bindings.push({ kind: 'status' });
  return {
    code, workgroupSize: wg, bindings, vectorWidth: width,
    dispatch(offsets, scalars = []) {
      if (vectorize) {
        for (let a = 0; a < nArgs; a++) {
          if (vecArg(a) && offsets[a]! % 4 !== 0) throw new InternalError(`wgsl: vectorized kernel called with offset ${offsets[a]} for arg ${a}`);
        }
      }
      return { workgroups, uniforms: uniforms.pack(offsets, scalars) };
    },
  };
}
