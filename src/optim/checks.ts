/** What optimizers check in what users hand them: parameter lists, and saved state before it is loaded. */
import { ShapeError, ValueError, fmtShape, fmtValue } from '../../runtime/errors.js';
import { sameShape } from '../../compiler/ir/shape.js';
import { Tensor } from '../tensor.js';

/** The parameter groups of a constructor argument: tensors, or groups `{ params: Tensor[], ...options }`. */
export function checkGroups<G extends { params: Tensor[] }>(op: string, params: readonly unknown[]): G[] {
  if (params.every((p) => p instanceof Tensor)) return [{ params: params as Tensor[] } as G];
  params.forEach((g, i) => {
    const isGroup = g !== null && typeof g === 'object' && !(g instanceof Tensor);
    const list = isGroup ? (g as { params?: unknown }).params : undefined;
    if (!Array.isArray(list)) {
      const valid = 'a list of tensors or of groups { params: Tensor[], ... }';
      throw new ValueError(`${op}: parameters must be ${valid} (element ${i} is ${fmtValue(g)})`);
    }
    list.forEach((p, j) => {
      if (!(p instanceof Tensor)) {
        throw new ValueError(`${op}: group ${i} parameter ${j} is not a tensor (got ${fmtValue(p)})`);
      }
    });
  });
  return params as G[];
}

/** Pairs saved per-parameter state with the parameters, throwing before anything is loaded. */
export function checkSavedState(
  op: string,
  saved: { state: Record<number, Record<string, unknown>>; paramGroups: readonly object[] },
  byIndex: readonly Tensor[],
  groups: readonly object[],
): [Tensor, Record<string, Tensor | number>][] {
  if (saved === null || typeof saved !== 'object' || saved.state === null || typeof saved.state !== 'object') {
    throw new ValueError(`${op}: expects what stateDict() returned, { state, paramGroups } (got ${fmtValue(saved)})`);
  }
  const out: [Tensor, Record<string, Tensor | number>][] = [];
  for (const [i, s] of Object.entries(saved.state)) {
    const p = byIndex[Number(i)];
    if (p === undefined) {
      throw new ValueError(`${op}: state for parameter ${i}, which does not exist (valid: 0..${byIndex.length - 1})`);
    }
    for (const [key, v] of Object.entries(s)) {
      if (typeof v === 'number') continue;
      const what = `${op}: state ${key} of parameter ${i}`;
      if (!(v instanceof Tensor)) throw new ValueError(`${what} must be a tensor or a number (got ${fmtValue(v)})`);
      if (v.isDisposed) throw new ValueError(`${what} was disposed`);
      // Moments have their parameter's shape; step counts are 0-d.
      if (v.ndim > 0 && !sameShape(v.shape, p.shape)) {
        throw new ShapeError(`${what} has shape ${fmtShape(v.shape)}, the parameter ${fmtShape(p.shape)}`);
      }
      if (v.device !== p.device) throw new ValueError(`${what} is on ${v.device}, the parameter on ${p.device}`);
    }
    out.push([p, s as Record<string, Tensor | number>]);
  }
  saved.paramGroups.forEach((g, gi) => {
    for (const [key, v] of Object.entries(g)) {
      if (key === 'params') continue;
      const current = (groups[gi] as Record<string, unknown>)[key];
      if (typeof current === 'number' && typeof v !== 'number') {
        throw new ValueError(`${op}: group ${gi} option ${key} must be a number (got ${fmtValue(v)})`);
      }
    }
  });
  return out;
}
