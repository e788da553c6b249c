/**
 * Gradient definitions for the tfjs kernels that the training benchmark differentiates.
 *
 * tfjs-core's Node build (dist/tf-core.node.js) ships the autodiff engine but not the
 * gradient table: `@tensorflow/tfjs` registers it by importing
 * `@tensorflow/tfjs-core/dist/register_all_gradients`, an ES module with extensionless
 * imports that plain Node cannot load. So the benchmark registers the few it needs, each a
 * line-for-line copy of tfjs-core 4.22's own definition (src/gradients/<Kernel>_grad.ts),
 * so tfjs does exactly the work it would do with the full package.
 */
import * as tf from '@tensorflow/tfjs-core';

const { broadcast_util: broadcast, backend_util: backendUtil, util } = tf;

/** The gradient of a broadcasting binary op's operand: sum over the broadcast axes. */
function unbroadcast(dy: tf.Tensor, shape: number[], outShape: number[]): tf.Tensor {
  const axes = broadcast.getReductionAxes(shape, outShape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

const configs: tf.GradConfig[] = [
  {
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
      if (!transposeA && !transposeB) return { a: () => tf.matMul(dy as tf.Tensor, b, false, true), b: () => tf.matMul(a, dy as tf.Tensor, true, false) };
      if (!transposeA && transposeB) return { a: () => tf.matMul(dy as tf.Tensor, b, false, false), b: () => tf.matMul(dy as tf.Tensor, a, true, false) };
      if (transposeA && !transposeB) return { a: () => tf.matMul(b, dy as tf.Tensor, false, true), b: () => tf.matMul(a, dy as tf.Tensor, false, false) };
      return { a: () => tf.matMul(b, dy as tf.Tensor, true, true), b: () => tf.matMul(dy as tf.Tensor, a, true, true) };
    },
  },
  {
    kernelName: tf.Add,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const outShape = broadcast.assertAndGetBroadcastShape(a.shape, b.shape);
      return { a: () => unbroadcast(dy as tf.Tensor, a.shape, outShape), b: () => unbroadcast(dy as tf.Tensor, b.shape, outShape) };
    },
  },
  {
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => tf.mul(dy as tf.Tensor, tf.cast(tf.step(x), 'float32')) };
    },
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const { axis } = attrs as unknown as tf.MeanAttrs;
      const axes = util.parseAxisParam(axis, x.shape);
      const reduceSize = util.sizeFromShape(backendUtil.computeOutAndReduceShapes(x.shape, axes)[1]);
      return {
        x: () => {
          const expanded = x.shape.slice();
          for (const a of axes) expanded[a] = 1;
          return tf.div(tf.mul(tf.reshape(dy as tf.Tensor, expanded), tf.ones(x.shape, 'float32')), reduceSize);
        },
      };
    },
  },
];

/** Registers the gradients above, skipping any that are already registered (e.g. by the full tfjs package). */
export function registerTrainingGradients(): void {
  for (const c of configs) {
    if (tf.getGradient(c.kernelName) === undefined) tf.registerGradient(c);
  }
}
