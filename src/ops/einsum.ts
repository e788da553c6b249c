/**
 * Einstein summation, lowered to permutes, sums and batched matmuls (pairwise, left to
 * right), so a contraction runs as the matmul kernel rather than a broadcast product.
 */
import { ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { sizeOf } from '../../compiler/ir/shape.js';
import { Tensor } from '../tensor.js';
import { matmul } from './linalg.js';
import { sum } from './reduce.js';
import { permute, reshape } from './shape.js';

const LETTERS = /^[a-zA-Z]*$/;

/** A tensor with one letter per dim. */
interface Labeled {
  t: Tensor;
  labels: string[];
}

function parse(equation: string, n: number): { inputs: string[][]; output: string[] } {
  if (typeof equation !== 'string') throw new ValueError(`einsum: equation must be a string (got ${typeof equation})`);
  const [lhs, rhs, extra] = equation.replace(/\s+/g, '').split('->');
  if (extra !== undefined || lhs === undefined) {
    throw new ValueError(`einsum: cannot read ${JSON.stringify(equation)} (valid: 'ij,jk->ik')`);
  }
  const inputs = lhs.split(',').map((s) => s.split(''));
  if (inputs.length !== n) {
    throw new ValueError(`einsum: ${JSON.stringify(equation)} names ${inputs.length} operands, got ${n}`);
  }
  for (const labels of [...inputs, ...(rhs === undefined ? [] : [rhs.split('')])]) {
    if (!LETTERS.test(labels.join(''))) {
      throw new ValueError(`einsum: subscripts must be letters (got ${JSON.stringify(equation)}; '...' is not supported)`);
    }
    if (new Set(labels).size !== labels.length) {
      throw new ValueError(`einsum: a subscript repeats within one term of ${JSON.stringify(equation)} (diagonals are not supported)`);
    }
  }
  // Without '->', the output is the letters seen once, in alphabetical order (NumPy's rule).
  const counts = new Map<string, number>();
  for (const l of inputs.flat()) counts.set(l, (counts.get(l) ?? 0) + 1);
  const output = rhs === undefined ? [...counts.keys()].filter((l) => counts.get(l) === 1).sort() : rhs.split('');
  for (const l of output) if (!counts.has(l)) {
    throw new ValueError(`einsum: output subscript ${l} appears in no input of ${JSON.stringify(equation)}`);
  }
  return { inputs, output };
}

/** Sums out the letters of `x` that no later term needs. */
function sumUnneeded(x: Labeled, keep: Set<string>): Labeled {
  const axes = x.labels.map((l, i) => (keep.has(l) ? -1 : i)).filter((i) => i >= 0);
  if (axes.length === 0) return x;
  return { t: sum(x.t, axes), labels: x.labels.filter((l) => keep.has(l)) };
}

/** a·b contracted over their shared letters that `keep` does not need, as one batched matmul. */
function contract(a: Labeled, b: Labeled, keep: Set<string>, size: Map<string, number>): Labeled {
  const batch = a.labels.filter((l) => b.labels.includes(l) && keep.has(l));
  const inner = a.labels.filter((l) => b.labels.includes(l) && !keep.has(l));
  const left = a.labels.filter((l) => !b.labels.includes(l));
  const right = b.labels.filter((l) => !a.labels.includes(l));
  const dims = (ls: string[]) => ls.map((l) => size.get(l)!);
  const order = (x: Labeled, ls: string[]) => permute(x.t, ls.map((l) => x.labels.indexOf(l)));
  const B = sizeOf(dims(batch)), M = sizeOf(dims(left)), K = sizeOf(dims(inner)), N = sizeOf(dims(right));
  const a3 = reshape(order(a, [...batch, ...left, ...inner]), [B, M, K]);
  const b3 = reshape(order(b, [...batch, ...inner, ...right]), [B, K, N]);
  const out = reshape(matmul(a3, b3), [...dims(batch), ...dims(left), ...dims(right)]);
  return { t: out, labels: [...batch, ...left, ...right] };
}

/** `einsum('bij,bjk->bik', a, b)`: products of the operands summed over the letters not in the output. */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  const { inputs, output } = parse(equation, operands.length);
  const size = new Map<string, number>();
  const terms: Labeled[] = operands.map((t, i) => {
    if (!(t instanceof Tensor)) throw new ValueError(`einsum: operand ${i} is not a tensor`);
    const labels = inputs[i]!;
    if (labels.length !== t.ndim) {
      throw new ShapeError(`einsum: operand ${i} has shape ${fmtShape(t.shape)} but its subscripts ${labels.join('')} name ${labels.length} dims`);
    }
    labels.forEach((l, d) => {
      const known = size.get(l);
      if (known !== undefined && known !== t.shape[d]) {
        throw new ShapeError(`einsum: subscript ${l} is ${known} in one operand and ${t.shape[d]} in operand ${i}`);
      }
      size.set(l, t.shape[d]!);
    });
    return { t, labels };
  });
  const needed = (from: number) => new Set([...output, ...inputs.slice(from).flat()]);
  let acc = sumUnneeded(terms[0]!, needed(1));
  for (let i = 1; i < terms.length; i++) {
    const keep = needed(i + 1);
    acc = contract(acc, sumUnneeded(terms[i]!, new Set([...keep, ...acc.labels])), keep, size);
  }
  return permute(acc.t, output.map((l) => acc.labels.indexOf(l)));
}
