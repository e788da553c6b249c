/** The MLP 784-256-256-10 SGD step in jax-js, for the benches that time kiln's step beside it. */
import * as jax from '@jax-js/jax';
import type * as kiln from '../src/index.js';
import { BATCH, LR, SIZES } from './mlp.js';

/** The MLP step in jax-js from the same weights ([in, out]), SGD on mean cross entropy, under jit. */
export function jaxMlp(layers: readonly kiln.nn.Linear[], xs: Float32Array, labels: Int32Array): () => number {
  const np = jax.numpy;
  type Params = { w: jax.Array[]; b: jax.Array[] };
  let params: Params = {
    w: layers.map((l) => np.array(l.weight.t().contiguous().data<'float32'>()).reshape([l.inFeatures, l.outFeatures])),
    b: layers.map((l) => np.array(l.bias!.data<'float32'>())),
  };
  const onehot = new Float32Array(BATCH * SIZES[3]);
  labels.forEach((c, i) => (onehot[i * SIZES[3] + c] = 1));
  const x = np.array(xs).reshape([BATCH, SIZES[0]]), y = np.array(onehot).reshape([BATCH, SIZES[3]]);
  const loss = (p: Params, xb: jax.Array, yb: jax.Array): jax.Array => {
    let h = xb;
    for (let l = 0; l < p.w.length; l++) {
      h = np.matmul(h, p.w[l]!).add(p.b[l]!);
      if (l < p.w.length - 1) h = jax.nn.relu(h);
    }
    return jax.nn.logSoftmax(h, -1).mul(yb).sum().mul(-1 / BATCH);
  };
  const step = jax.jit((p: Params, xb: jax.Array, yb: jax.Array) => {
    const [value, g] = jax.valueAndGrad(loss)(jax.tree.ref(p), xb, yb);
    return [value, jax.tree.map((w: jax.Array, gw: jax.Array) => w.sub(gw.mul(LR)), p, g)] as const;
  });
  return () => {
    const [value, next] = step(params, x.ref, y.ref) as unknown as [jax.Array, Params];
    params = next;
    return value.dataSync()[0]!;
  };
}
