/** Functional transforms in the style of JAX: grad, valueAndGrad and vjp of plain functions. */
import { ValueError, fmtShape } from '../../runtime/errors.js';
import { apply } from '../dispatch.js';
import { Tensor } from '../tensor.js';
import { onesLike, zerosLike } from '../ops/creation.js';
import { runBackward } from './backward.js';
import { enableGrad, isGradEnabled } from './mode.js';
import { GradNode } from './node.js';

type Fn = (...args: any[]) => Tensor;

function argList(argnums: number | number[], args: readonly unknown[], op: string): number[] {
  const list = Array.isArray(argnums) ? argnums : [argnums];
  for (const i of list) {
    if (!Number.isInteger(i) || i < 0 || i >= args.length || !(args[i] instanceof Tensor)) {
      throw new ValueError(`${op}: argnums ${i} must name a tensor argument (got ${args.length} arguments)`);
    }
  }
  return list;
}

/**
 * Fresh differentiable stand-ins for the arguments. When an outer computation already
 * tracks an argument (grad of grad), the stand-in is an alias recorded in that outer graph,
 * so the inner gradient stays differentiable. `fresh` holds the stand-ins that are new leaves.
 */
function standIns(args: readonly unknown[], nums: readonly number[]): { args: unknown[]; wrt: Tensor[]; fresh: Set<Tensor> } {
  const out = args.slice();
  const tracking = isGradEnabled();
  const fresh = new Set<Tensor>();
  const wrt = nums.map((i) => {
    const x = args[i] as Tensor;
    const t = tracking && x.requiresGrad ? apply('reshape', [x], { shape: x.shape.slice() }) : x.detach().requiresGrad_();
    if (t.isLeaf) fresh.add(t);
    out[i] = t;
    return t;
  });
  return { args: out, wrt, fresh };
}

/**
 * True when grad mode is on and `t` was computed from a tensor requiring grad other than the
 * fresh stand-ins: an argument tracked outside, or a tensor the function closes over (the
 * outer variable of a nested grad, a model's parameters). Then the gradient is recorded too,
 * so an enclosing grad or backward can differentiate through it.
 */
function dependsOnOuter(t: Tensor, fresh: ReadonlySet<Tensor>): boolean {
  if (!isGradEnabled()) return false;
  if (t.gradFn === null) return t.requiresGrad && !fresh.has(t);
  const seen = new Set<GradNode>([t.gradFn]);
  const stack = [t.gradFn];
  while (stack.length) {
    for (const e of stack.pop()!.edges ?? []) {
      if (e instanceof GradNode) {
        if (!seen.has(e)) {
          seen.add(e);
          stack.push(e);
        }
      } else if (e !== null && !fresh.has(e)) return true;
    }
  }
  return false;
}

/** fn(...args) and its gradient with respect to the arguments at `argnums` (default 0). */
export function valueAndGrad<F extends Fn>(fn: F, argnums?: number): (...args: Parameters<F>) => [Tensor, Tensor];
export function valueAndGrad<F extends Fn>(fn: F, argnums: number[]): (...args: Parameters<F>) => [Tensor, Tensor[]];
export function valueAndGrad<F extends Fn>(fn: F, argnums: number | number[] = 0): (...args: Parameters<F>) => [Tensor, Tensor | Tensor[]] {
  return (...args) => {
    const nums = argList(argnums, args, 'valueAndGrad');
    const s = standIns(args, nums);
    const value = enableGrad(() => fn(...s.args));
    if (!(value instanceof Tensor) || value.size !== 1) {
      throw new ValueError(`grad: the function must return a one-element tensor (got ${value instanceof Tensor ? fmtShape(value.shape) : typeof value}); use vjp for other outputs`);
    }
    const nested = dependsOnOuter(value, s.fresh);
    const grads = value.requiresGrad
      ? runBackward([value], [onesLike(value)], { wrt: s.wrt, createGraph: nested, retainGraph: nested })
      : s.wrt.map(() => undefined);
    const filled = grads.map((g, j) => g ?? zerosLike(s.wrt[j]!));
    return [nested ? value : value.detach(), Array.isArray(argnums) ? filled : filled[0]!];
  };
}

/** The gradient of a function returning a one-element tensor, as a function of the same arguments. */
export function grad<F extends Fn>(fn: F, argnums?: number): (...args: Parameters<F>) => Tensor;
export function grad<F extends Fn>(fn: F, argnums: number[]): (...args: Parameters<F>) => Tensor[];
export function grad<F extends Fn>(fn: F, argnums: number | number[] = 0): (...args: Parameters<F>) => Tensor | Tensor[] {
  const vg = valueAndGrad(fn, argnums as number);
  return (...args) => vg(...args)[1];
}

/**
 * fn's output at `primals` and a function mapping a cotangent (shaped like the output) to
 * the vector-Jacobian products for every primal.
 */
export function vjp(fn: (...xs: Tensor[]) => Tensor, ...primals: Tensor[]): [Tensor, (cotangent: Tensor) => Tensor[]] {
  const s = standIns(primals, primals.map((_, i) => i));
  const out = enableGrad(() => fn(...(s.args as Tensor[])));
  if (!(out instanceof Tensor)) throw new ValueError(`vjp: the function must return a tensor (got ${typeof out})`);
  const nested = dependsOnOuter(out, s.fresh);
  const pullback = (cotangent: Tensor): Tensor[] => {
    if (!out.requiresGrad) return s.wrt.map((w) => zerosLike(w));
    const grads = runBackward([out], [cotangent], { wrt: s.wrt, retainGraph: true, createGraph: nested });
    return grads.map((g, j) => g ?? zerosLike(s.wrt[j]!));
  };
  return [nested ? out : out.detach(), pullback];
}
