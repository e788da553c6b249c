/**
 * kiln/onnx: a function's computation as an ONNX model, to run on ONNX Runtime (servers,
 * GPUs, Triton, the web) with its weights inside or beside it as safetensors. Kept apart
 * from the main entry because it needs the ONNX schema's protobuf types
 * (`@bufbuild/protobuf` and `onnx-buf`, optional peer dependencies).
 */
import { ONNX_OPSET, OnnxExportError, onnxModel } from '../compiler/export/onnx/export.js';
import { defaultPasses, type NamedPass } from '../compiler/passes/pipeline.js';
import { noGrad } from './autograd/mode.js';
import { trace } from './jit/stage.js';
import type { Module } from './nn/module.js';
import { Tensor } from './tensor.js';

export { ONNX_OPSET, OnnxExportError };

/** Options of exportOnnx (passed as its last argument). */
export interface OnnxExportOptions {
  /** Captured tensors stored in the model (default), or left as graph inputs to feed from a safetensors file. */
  weights?: 'initializers' | 'inputs';
  /** A module whose parameter names (`0.weight`…) name the captured tensors it owns. */
  module?: Module;
  /** Names of the graph inputs, one per tensor argument (default `input_0`, …). */
  inputNames?: string[];
  /** Names of the graph outputs, one per tensor of the result (default `output_0`, …). */
  outputNames?: string[];
  /** Graph passes run before export (default jit's). */
  passes?: readonly NamedPass[];
}

const OPTION_KEYS = new Set(['weights', 'module', 'inputNames', 'outputNames', 'passes']);

/** True for a last argument that is exportOnnx's options: a plain object of option keys only. */
function isOptions(x: unknown): x is OnnxExportOptions {
  if (x === null || typeof x !== 'object' || Object.getPrototypeOf(x) !== Object.prototype) return false;
  const keys = Object.keys(x);
  return keys.length > 0 && keys.every((k) => OPTION_KEYS.has(k));
}

/**
 * Exports what `fn(...exampleArgs)` computes as an ONNX model (opset 18): runs it once while
 * recording, optimizes the graph and serializes it. Tensor arguments become graph inputs of
 * their example shapes; tensors `fn` reaches otherwise (a model's parameters) become
 * initializers. Numbers are baked in. A loop lifted by kiln's source transform becomes an
 * ONNX Loop. An optional last argument of `OnnxExportOptions` keys is taken as options.
 */
export function exportOnnx<A extends unknown[]>(
  fn: (...args: A) => unknown,
  ...argsAndOptions: [...A] | [...A, OnnxExportOptions]
): Uint8Array {
  const last = argsAndOptions[argsAndOptions.length - 1];
  const options: OnnxExportOptions = isOptions(last) ? last : {};
  const args = (isOptions(last) ? argsAndOptions.slice(0, -1) : argsAndOptions) as A;
  const traced = noGrad(() => trace(fn, ...args));
  const optimized = traced.optimize(options.passes ?? defaultPasses);
  const names = new Map<Tensor, string>();
  for (const [name, t] of [...(options.module?.namedParameters() ?? []), ...(options.module?.namedBuffers() ?? [])])
    names.set(t, name);
  return onnxModel({
    graph: optimized.graph,
    outputs: optimized.outputs,
    args: traced.args.map((t) => ({ shape: t.shape, dtype: t.dtype })),
    captureData: (slot) => noGrad(() => traced.captures[slot]!.data()),
    captureNames: traced.captures.map((t) => names.get(t)),
    inputNames: options.inputNames,
    outputNames: options.outputNames,
    weights: options.weights,
    name: fn.name || 'kiln',
  });
}
