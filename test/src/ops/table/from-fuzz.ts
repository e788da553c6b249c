/**
 * Table records made from the fuzzer's op records, so an op's kiln call and float64 meaning
 * are written once (test/fuzz/ops-*.ts) and the table fixes only its inputs and constants.
 */
import { store } from '../../../fuzz/dtypes.js';
import type { RefValue } from '../../../fuzz/op-record.js';
import { opNamed } from '../../../fuzz/ops.js';
import type { Params } from '../../../fuzz/program.js';
import { rng } from '../../../helpers.js';
import { dtypeOf, type TableInput, type TableRecord } from './record.js';

export interface FromFuzz {
  /** The fuzzer's op name. */
  op: string;
  /** The row's name (defaults to the op's). */
  name?: string;
  inputs: (next: () => number) => TableInput[];
  params?: Params;
  /** Differentiable for these inputs (defaults to the fuzzer's `smooth` where an input is float). */
  grad?: boolean;
  extra?: Pick<TableRecord, 'refTol' | 'backendTol' | 'needs'>;
}

/** A table record that runs the fuzzer's op `spec.op` with fixed params on the row's inputs. */
export function fromFuzz(spec: FromFuzz): TableRecord {
  const op = opNamed(spec.op);
  const params = spec.params ?? { c: null };
  // The kinds do not depend on the drawn values, only on the row.
  const kinds = spec.inputs(rng(1)).map((x) => x.kind);
  return {
    name: spec.name ?? spec.op,
    inputs: spec.inputs,
    call: (...xs) => op.run(xs, params),
    ref: (...xs) => {
      const args: RefValue[] = xs.map((x, i) => ({ ...x, dtype: dtypeOf(kinds[i]!, 'float64') }));
      const r = op.ref(args, params);
      // The fuzzer leaves rounding to the result dtype (casts, int32 wrap) to its comparison.
      return [{ shape: r.shape, values: r.values.map((v) => store(v, r.dtype)) }];
    },
    grad: spec.grad ?? (op.smooth && kinds.includes('float')),
    ...spec.extra,
  };
}

/** A fixed list of int32 indices below `high`, drawn from a generator seeded by `label`. */
export function fixedIndices(label: string, count: number, high: number): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  const next = rng(h >>> 0);
  return Array.from({ length: count }, () => Math.floor(next() * high));
}
