/** The MLP training step on TensorFlow.js that the benchmarks compare kiln with. */
import * as tf from '@tensorflow/tfjs-core';
import type * as k from '../src/index.js';

/**
 * A ReLU MLP in tfjs whose variables start from kiln's Linear layers, with SGD at `lr` on
 * mean softmax cross entropy (kiln's crossEntropy). `step` runs one update and returns the
 * loss (`stepAsync` reads it asynchronously); `forward` computes the loss only.
 */
export function tfjsMlp(layers: readonly k.nn.Linear[], x: tf.Tensor2D, yOneHot: tf.Tensor2D, lr: number) {
  // kiln's Linear keeps weight as [out, in] (PyTorch's layout); tfjs multiplies by [in, out].
  const params = layers.map((l) => ({
    w: tf.variable(tf.tensor2d(l.weight.t().contiguous().data<'float32'>(), [l.inFeatures, l.outFeatures])),
    b: tf.variable(tf.tensor1d(l.bias!.data<'float32'>())),
  }));
  const optimizer = tf.train.sgd(lr);
  const loss = (): tf.Scalar => {
    let h: tf.Tensor2D = x;
    params.forEach(({ w, b }, i) => {
      h = tf.add(tf.matMul(h, w), b);
      if (i < params.length - 1) h = tf.relu(h);
    });
    return tf.losses.softmaxCrossEntropy(yOneHot, h, undefined, undefined, tf.Reduction.MEAN) as tf.Scalar;
  };
  const read = (cost: tf.Scalar): number => {
    const v = cost.dataSync()[0]!;
    cost.dispose();
    return v;
  };
  return {
    params,
    step: (): number => read(optimizer.minimize(loss, true)!),
    /** `step` reading the loss asynchronously (a GPU backend's readback). */
    stepAsync: async (): Promise<number> => {
      const cost = optimizer.minimize(loss, true)!;
      try {
        return (await cost.data())[0]!;
      } finally {
        cost.dispose();
      }
    },
    forward: (): number => read(tf.tidy(loss)),
  };
}
