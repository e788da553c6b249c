/** The per-element expression DAG of a kernel spec as WGSL statements. */
import { type ElementwisePrim, type GpuDType, renderWgslCast, renderWgslPrim, wgslPrimitives } from '../wgsl-prims.js';
import { type UseHelper } from '../wgsl-helpers.js';
import type { Expr } from '../../kernel.js';
import { renderExprs } from '../expr.js';
import { InternalError } from '../../../runtime/errors.js';
import { STATUS_GATHER, fromStorage, gpuDType, int, sizeU32 } from './common.js';
import { Uniforms } from './uniforms.js';
import { primitiveRules } from '../../ir/primitives.js';

/** How a body reads its args, row values and saved values at the current position. */
export interface BodyAccess {
  /** Arg `arg`'s storage element at the current position (widened to a register value by renderBody). */
  load(arg: number): string;
  /** The u32 element index of arg `arg` at the current position (scalar-typed args only). */
  index(arg: number): string;
  /** The current position along the last dim, as i32 (iota). */
  position: string;
  /** Row value `index` of a row kernel. */
  row?(index: number): string;
  /** The value saved as scratch `index` by an earlier pass of a row kernel, at this position. */
  scratch?(index: number): string;
  /** In a matmul epilogue, the product at this output element. */
  acc?: string;
}

/** Types of the values a body reads besides args: row kernels' row and scratch values, a matmul epilogue's product. */
export interface RowTypes {
  rows: (GpuDType | undefined)[];
  scratch: (GpuDType | undefined)[];
  acc?: GpuDType;
}

/** dtype of every node, checking operand dtypes and that every primitive has a WGSL rendering. */
export function nodeTypes(body: readonly Expr[], argTypes: readonly GpuDType[], rowTypes?: RowTypes): GpuDType[] {
  const known = (t: GpuDType | undefined, what: string): GpuDType => {
    if (t === undefined) throw new InternalError(`wgsl: ${what} is read before it is computed`);
    return t;
  };
  return body.map((e, i): GpuDType => {
    switch (e.op) {
      case 'load':
      case 'gatherLoad': return known(argTypes[e.arg], `arg ${e.arg}`);
      case 'scalar': return gpuDType(e.dtype, `scalar ${e.index}`);
      case 'literal': return gpuDType(e.dtype, 'a literal');
      case 'position': return 'int32';
      case 'row': return known(rowTypes?.rows[e.index], `row value ${e.index}`);
      case 'scratch': return known(rowTypes?.scratch[e.index], `scratch ${e.index}`);
      case 'acc': return known(rowTypes?.acc, 'the matmul product');
      case 'cast':
        gpuDType(e.from, `node ${i}`);
        return gpuDType(e.to, `node ${i}`);
      case 'prim': {
        const dt = gpuDType(e.dtype, `node ${i} (${e.prim})`);
        if (!Object.hasOwn(wgslPrimitives, e.prim)) throw new InternalError(`wgsl: ${e.prim} is not elementwise`);
        const rule = primitiveRules[e.prim];
        return 'result' in rule && typeof rule.result === 'string' ? gpuDType(rule.result, `node ${i} (${e.prim})`) : dt;
      }
      default: {
        const unreachable: never = e;
        throw new InternalError(`wgsl: unknown expression ${(unreachable as { op: string }).op}`);
      }
    }
  });
}

/** Statements computing every node of `body` as `${prefix}<i>`. */
export function renderBody(body: readonly Expr[], types: readonly GpuDType[], access: BodyAccess, uniforms: Uniforms, use: UseHelper, prefix = 'v'): string[] {
  const v = (n: number) => `${prefix}${int(n)}`;
  return renderExprs(body, {
    load: (e, i) => fromStorage(types[i]!, access.load(e.arg)),
    gatherLoad: (e, i, pre) => {
      if (types[e.index] !== 'int32') throw new InternalError(`wgsl: gather index node ${e.index} is not int32`);
      const g = `${prefix}g${i}`, ok = `${prefix}ok${i}`;
      pre.push(`let ${g} = ${v(e.index)};`);
      const size = sizeU32(uniforms.size(e, 'size'));
      pre.push(`let ${ok} = ${g} >= 0i && u32(${g}) < ${size};`);
      pre.push(`if (!${ok}) { k_fail(${STATUS_GATHER}u, ${g}, ${size}); }`);
      const stride = sizeU32(uniforms.size(e, 'stride'));
      return fromStorage(types[i]!, `b${int(e.arg)}[${access.index(e.arg)} + select(0u, u32(${g}) * ${stride}, ${ok})]`);
    },
    scalar: (e, i) => uniforms.scalar(e.index, types[i]!),
    literal: (e, i) => uniforms.literal(e.value, types[i]!),
    position: () => access.position,
    row: (e) => {
      if (access.row === undefined) throw new InternalError('wgsl: row value outside a row kernel');
      return access.row(e.index);
    },
    scratch: (e) => {
      if (access.scratch === undefined) throw new InternalError('wgsl: scratch value outside a row kernel');
      return access.scratch(e.index);
    },
    acc: () => {
      if (access.acc === undefined) throw new InternalError('wgsl: matmul product outside a matmul epilogue');
      return access.acc;
    },
    prim: (e, i) => renderWgslPrim(e.prim as ElementwisePrim, e.args.map(v), gpuDType(e.dtype, `node ${i}`), use),
    cast: (e, i) => renderWgslCast(v(e.arg), types[e.arg]!, gpuDType(e.to, `node ${i}`), use),
  }, 'let', v);
}
