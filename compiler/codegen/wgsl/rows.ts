/** Reduce and row kernels, laid out by row-layout.ts. */
import { type BodyAccess, type RowTypes, nodeTypes, renderBody } from './body.js';
import { type GpuDType, wgslType } from '../wgsl-prims.js';
import { HelperSet } from '../wgsl-helpers.js';
import { InternalError } from '../../../runtime/errors.js';
import {
  ROW_ENTRY, betterFn, combineLanes, componentsInOrder, fold, guarded, laneCapacity, rowDispatch, rowLoop, rowMapping,
  rowCount, rowOffsets, rowProfile, rowPrologue, rowWalk, walksAlongRow, type RowMapping, type RowWalk,
} from './row-layout.js';
import type { ReduceSpec, RowPass, RowSpec } from '../../kernel.js';
import { Uniforms } from './uniforms.js';
import type { WgslKernel, WgslLimits, WgslOptions } from './types.js';
import { assemble, gpuDType, indent, int, product, storageDecls, toStorage, u32 } from './common.js';

/** What every reduce and row kernel starts from: its args' types, its sizes, its helpers and uniform words. */
function startRowKernel(spec: ReduceSpec | RowSpec, limits: WgslLimits, options: WgslOptions) {
  const nArgs = spec.dtypes.length;
  const argTypes = spec.dtypes.map((d, a) => gpuDType(d, `arg ${a}`));
  if (nArgs > limits.maxStorageBuffersPerShaderStage) {
    const most = limits.maxStorageBuffersPerShaderStage;
    throw new InternalError(`wgsl: a ${spec.kind} kernel needs ${nArgs} storage buffers, the device allows ${most}`);
  }
  const helpers = new HelperSet();
  const uniforms = new Uniforms(nArgs, options.sizes);
  const rows = rowCount(spec, uniforms);
  return { nArgs, argTypes, inner: product(spec.inner), rows, helpers, use: helpers.use, uniforms };
}

/** The shader of a reduce or row kernel around its entry point's lines `main`, and its launch. */
function finishRowKernel(
  argTypes: readonly GpuDType[], writable: ReadonlySet<number>, walk: RowWalk, m: RowMapping, uniforms: Uniforms,
  helpers: HelperSet, extra: string[], main: string[],
): WgslKernel {
  const { decls, bindings } = storageDecls(argTypes, writable, walk.vec);
  const attr = `@compute @workgroup_size(${int(m.wg)})`;
  const code = assemble(decls, uniforms, argTypes.length, false, helpers, extra, attr, ROW_ENTRY, main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 });
  return { code, workgroupSize: m.wg, bindings, vectorWidth: walk.width, dispatch: rowDispatch(m, walk, uniforms) };
}

export function renderReduce(spec: ReduceSpec, limits: WgslLimits, options: WgslOptions): WgslKernel {
  const { nArgs, argTypes, inner, rows, helpers, use, uniforms } = startRowKernel(spec, limits, options);
  const dtype = gpuDType(spec.dtype, 'the reduced operand');
  const outDtype = gpuDType(spec.outDtype, 'the reduction output');
  if (argTypes[0] !== outDtype) throw new InternalError('wgsl: reduce output arg dtype differs from outDtype');
  const types = nodeTypes(spec.body, argTypes);
  if (types[spec.value] !== dtype) throw new InternalError(`wgsl: reduce value node is ${types[spec.value]}, expected ${dtype}`);
  if (spec.body.some((e) => e.op === 'gatherLoad')) throw new InternalError('wgsl: gather inside a reduction');
  const op = spec.op;
  const isArg = op === 'argmax' || op === 'argmin';
  const f = isArg ? undefined : fold(op, dtype, outDtype, inner === 0, use);
  const A = wgslType(f?.accType ?? dtype);
  const extra: string[] = isArg ? betterFn(op, dtype, use) : [];
  const inputs = new Set(Array.from({ length: nArgs - 1 }, (_, k) => k + 1));
  const walk = rowWalk(spec, inputs, new Set(), new Set([0]), options.alignedOffsets === true, uniforms);
  const { mapping: m } = rowMapping(rows, inner, walk.capacity, walksAlongRow(spec.outerStrides, spec.innerStrides, inputs), isArg ? 8 : 4, 0, rowProfile(options), limits);

  const better = (acc: string, at: string, v: string, i: string) => [`if (k_better(${acc}, ${at}, ${v}, ${i})) {`, `  ${acc} = ${v};`, `  ${at} = ${i};`, `}`];
  /** Folds the value `v` of element `i` into a partial result (acc, at). */
  const absorb = (acc: string, at: string, v: string, i: string): string[] => (f !== undefined ? [f.step(acc, v)] : better(acc, at, v, i));
  /** Folds partial result (v, i) into partial result (acc, at). */
  const merge = (acc: string, at: string, v: string, i: string): string[] => (f !== undefined ? [`${acc} = ${f.combine(acc, v)};`] : better(acc, at, v, i));
  const init = f?.init ?? '0';
  const reset = [`acc = ${init};`, ...(isArg ? [`at = NONE;`] : [])];
  const split = walk.width === 4;
  const main = [
    ...rowPrologue(m, uniforms),
    ...rowOffsets(spec, walk, uniforms),
    `var acc: ${A};`,
    ...(isArg ? [`var at: u32;`] : []),
    ...reset,
    ...(split ? [`var acc4 = vec4<${A}>(${init});`, ...(isArg ? [`var at4 = vec4<u32>(NONE);`] : [])] : []),
    ...rowLoop(m, walk, spec, uniforms, argTypes, [], (lines) => lines, (el) => ({
      lines: [
        ...renderBody(spec.body, types, { load: el.load, index: (a) => `p${a}`, position: el.position }, uniforms, use),
        ...absorb(split ? 'acc4[c]' : 'acc', split ? 'at4[c]' : 'at', `v${int(spec.value)}`, el.index),
      ],
      stores: [],
      saves: [],
    })),
    ...(split ? componentsInOrder(merge('acc', 'at', 'acc4[c]', 'at4[c]')) : []),
  ];
  if (m.lanes > 1) {
    extra.push(`var<workgroup> sa: array<${A}, ${int(m.wg)}>;`);
    if (isArg) extra.push(`var<workgroup> si: array<u32, ${int(m.wg)}>;`);
    main.push(...combineLanes(m, {
      write: [`sa[lid] = acc;`, ...(isArg ? [`si[lid] = at;`] : [])],
      merge: (into, from) => merge(`sa[${into}]`, `si[${into}]`, `sa[${from}]`, `si[${from}]`),
      reset,
      absorb: (from) => merge('acc', 'at', `sa[${from}]`, `si[${from}]`),
    }));
  }
  // A float16 result accumulates in f32 and rounds to half once, as the CPU's wide accumulator does.
  const result = isArg ? `i32(select(at, 0u, at == NONE))` : outDtype === 'float16' ? `${use('k_f16')}(acc)` : 'acc';
  main.push(...guarded(m, true, [`b0[q0] = ${toStorage(outDtype, result)};`]));
  return finishRowKernel(argTypes, new Set([0]), walk, m, uniforms, helpers, extra, main);
}

/**
 * A row kernel (softmax, layerNorm): each row's lanes run the passes in order, every
 * reduction combined across the lanes (combineLanes) so that all of them hold the row value.
 * Values the CPU keeps in scratch rows stay in each lane's own memory where they fit (a
 * lane reads back only elements it saved itself); otherwise each later pass recomputes
 * them from the saving pass's body, which gives the same bits.
 * Partial results of reductions travel as u32 bits in two arrays used in turn: a pass
 * writes one while slower lanes may still read the other's previous result.
 */
export function renderRow(spec: RowSpec, limits: WgslLimits, options: WgslOptions): WgslKernel {
  const { argTypes, inner, rows, helpers, use, uniforms } = startRowKernel(spec, limits, options);

  // Node types pass by pass: row values and scratch take the type of what produced them.
  const rowTypes: RowTypes = { rows: [], scratch: [] };
  const saver: { pass: number; node: number }[] = [];
  const passTypes = spec.passes.map((pass, p) => {
    if (pass.body.some((e) => e.op === 'gatherLoad')) throw new InternalError('wgsl: gather inside a row kernel');
    const types = nodeTypes(pass.body, argTypes, rowTypes);
    if (pass.kind === 'reduce') rowTypes.rows[pass.row] = gpuDType(pass.outDtype, `row ${pass.row}`);
    if (pass.kind === 'scalar') rowTypes.rows[pass.row] = types[pass.value]!;
    if (pass.kind !== 'scalar') {
      for (const sv of pass.saves) {
        if (!Number.isInteger(sv.index) || sv.index < 0 || sv.index >= spec.scratch) throw new InternalError(`wgsl: scratch ${sv.index} is out of range`);
        rowTypes.scratch[sv.index] = types[sv.node]!;
        saver[sv.index] = { pass: p, node: sv.node };
      }
    }
    return types;
  });
  for (let k = 0; k < spec.scratch; k++) if (saver[k] === undefined) throw new InternalError(`wgsl: scratch ${k} is never saved`);
  // Args read or written in loops over the row, and at the row's own position.
  const writable = new Set<number>(), walked = new Set<number>(), stored = new Set<number>(), atRow = new Set<number>();
  for (const pass of spec.passes) {
    const loads = pass.body.flatMap((e) => (e.op === 'load' ? [e.arg] : []));
    if (pass.kind === 'map') {
      for (const st of pass.stores) {
        if (st.scatter !== undefined) throw new InternalError('wgsl: scatter inside a row kernel');
        writable.add(st.arg);
        walked.add(st.arg);
        stored.add(st.arg);
      }
    } else if (pass.store !== undefined) {
      writable.add(pass.store);
      atRow.add(pass.store);
    }
    for (const a of loads) (pass.kind === 'scalar' ? atRow : walked).add(a);
  }
  const folds = spec.passes.map((pass) => (pass.kind === 'reduce' ? fold(pass.op, gpuDType(pass.dtype, 'a row reduction'), gpuDType(pass.outDtype, 'a row reduction'), inner === 0, use) : undefined));
  const reductions = folds.filter((f) => f !== undefined).length;
  const walk = rowWalk(spec, walked, stored, atRow, options.alignedOffsets === true, uniforms);
  const { mapping: m, keep } = rowMapping(rows, inner, walk.capacity, walksAlongRow(spec.outerStrides, spec.innerStrides, walked),
    4 * Math.min(reductions, 2), walk.width * spec.scratch, rowProfile(options), limits);

  const main = [...rowPrologue(m, uniforms), ...rowOffsets(spec, walk, uniforms)];
  if (keep) {
    rowTypes.scratch.forEach((t, k) => main.push(`var keep${k}: array<${walk.width === 4 ? `vec4<${wgslType(t!)}>` : wgslType(t!)}, ${u32(laneCapacity(m, walk))}>;`));
  }
  rowTypes.rows.forEach((t, k) => { if (t !== undefined) main.push(`var w${k}: ${wgslType(t)};`); });
  const rowValue = (k: number) => `w${int(k)}`;

  /** One pass's loop over the row: scratch values, body and saves, then `after`; stores guarded to live rows. */
  const overRow = (p: number, after: string[]): string[] => rowLoop(m, walk, spec, uniforms, argTypes, rowTypes.scratch, (lines) => guarded(m, false, lines), (el) => {
    const pass = spec.passes[p] as Extract<RowPass, { saves: unknown }>;
    const lines: string[] = [];
    const emitted = new Set<number>();
    const access: BodyAccess = {
      load: el.load,
      index: (a) => `p${a}`,
      position: el.position,
      row: rowValue,
      scratch: (index) => {
        const from = saver[index]!;
        if (keep) return el.scratch(index);
        emit(from.pass);
        return `x${int(from.pass)}_${int(from.node)}`;
      },
    };
    // Recomputing: the saving pass's body, rendered once per element under its own prefix (and its own saved inputs first).
    const emit = (q: number): void => {
      if (emitted.has(q)) return;
      emitted.add(q);
      lines.push(...renderBody(spec.passes[q]!.body, passTypes[q]!, access, uniforms, use, `x${int(q)}_`));
    };
    lines.push(...renderBody(pass.body, passTypes[p]!, access, uniforms, use), ...after);
    return {
      lines,
      stores: pass.kind === 'map' ? pass.stores.map((st) => ({ arg: st.arg, value: `v${int(st.node)}` })) : [],
      saves: keep ? pass.saves.map((sv) => ({ index: sv.index, value: `v${int(sv.node)}` })) : [],
    };
  });
  const storeRow = (arg: number | undefined, k: number) => (arg === undefined ? [] : guarded(m, true, [`b${int(arg)}[q${int(arg)}] = ${toStorage(argTypes[arg]!, rowValue(k))};`]));

  let shared = 0;
  spec.passes.forEach((pass, p) => {
    const block: string[] = [];
    switch (pass.kind) {
      case 'reduce': {
        const f = folds[p]!;
        const A = wgslType(f.accType);
        const split = walk.width === 4;
        block.push(`var acc: ${A} = ${f.init};`);
        if (split) block.push(`var acc4 = vec4<${A}>(${f.init});`);
        block.push(...overRow(p, [f.step(split ? 'acc4[c]' : 'acc', `v${int(pass.value)}`)]));
        if (split) block.push(...componentsInOrder([`acc = ${f.combine('acc', 'acc4[c]')};`]));
        if (m.lanes > 1) {
          const sr = `sr${shared++ % 2}`;
          const bits = (x: string) => `bitcast<u32>(${x})`;
          const value = (slot: string) => `bitcast<${A}>(${sr}[${slot}])`;
          block.push(...combineLanes(m, {
            write: [`${sr}[lid] = ${bits('acc')};`],
            merge: (into, from) => [`${sr}[${into}] = ${bits(f.combine(value(into), value(from)))};`],
            reset: [`acc = ${f.init};`],
            absorb: (from) => [`acc = ${f.combine('acc', value(from))};`],
          }));
        }
        const rounded = f.accType === 'float16' ? `${use('k_f16')}(acc)` : 'acc';
        block.push(`${rowValue(pass.row)} = ${rounded};`, ...storeRow(pass.store, pass.row));
        break;
      }
      case 'scalar':
        block.push(...renderBody(pass.body, passTypes[p]!, {
          load: (a) => `b${int(a)}[q${a}]`,
          index: (a) => `q${a}`,
          position: '0i',
          row: rowValue,
        }, uniforms, use));
        block.push(`${rowValue(pass.row)} = v${int(pass.value)};`, ...storeRow(pass.store, pass.row));
        break;
      case 'map':
        block.push(...overRow(p, []));
        break;
    }
    main.push('{', ...indent(block), '}');
  });

  const extra = [
    ...Array.from({ length: Math.min(shared, 2) }, (_, k) => `var<workgroup> sr${k}: array<u32, ${int(m.wg)}>;`),
  ];
  return finishRowKernel(argTypes, writable, walk, m, uniforms, helpers, extra, main);
}
