/** kiln: eager PyTorch-style tensors for TypeScript, compiled to generated kernels. */
export { Tensor, type Device, type TensorLike, type Nested } from './tensor.js';
export type { DType } from '../runtime/dtype.js';
export { resultType, canCast, type Scalar } from './dtype.js';
export { KilnError, ShapeError, DTypeError, ValueError, IndexRangeError, DeviceError, InternalError, JitError } from '../runtime/errors.js';
export {
  tensor, full, zeros, ones, fullLike, zerosLike, onesLike, arange, linspace, eye, rand, randn, randint,
  type CreateOptions, type NestedInput,
} from './ops/creation.js';
export { manualSeed } from './random.js';
export { setNumThreads, getNumThreads, threadsReady } from '../runtime/wasm/threads.js';
export { cpuEngineInfo, type CpuChoice, type CpuEngine } from '../runtime/wasm/engine.js';
export { keep, memory, tidy, type DeviceMemory, type MemoryInfo } from './memory.js';
export * as webgpu from './webgpu.js';
export {
  add, sub, mul, div, pow, remainder, maximum, minimum, neg, abs, sign, reciprocal, exp, log, log1p, expm1, sqrt,
  rsqrt, square, sin, cos, tan, tanh, erf, erfc, sigmoid, relu, gelu, silu, floor, ceil, round, clamp, isnan,
  lt, le, gt, ge, eq, ne, logicalAnd, logicalOr, logicalNot, where, cast,
} from './ops/elementwise.js';
export { sum, mean, prod, max, min, argmax, argmin, variance as var, std, logsumexp, softmax, logSoftmax, any, all } from './ops/reduce.js';
export {
  reshape, view, flatten, squeeze, unsqueeze, permute, transpose, expand, broadcastTo, slice, narrow,
  contiguous, clone, split, chunk, cat, stack, pad,
} from './ops/shape.js';
export { matmul } from './ops/linalg.js';
export { gather, indexSelect, scatterAdd, oneHot } from './ops/indexing.js';
export { index, indexPut, maskedFill, nonzero, type IndexSpec, type IndexRange } from './ops/advanced-index.js';
export { tril, triu, flip, roll, repeat, tile, movedim } from './ops/rearrange.js';
export { cumsum, cumprod, sort, argsort, topk, type Sorted } from './ops/order.js';
export { norm, isclose, allclose, type NormOrder, type CloseOptions } from './ops/norms.js';
export { einsum } from './ops/einsum.js';
export { maxWithIndices, minWithIndices, type ValuesIndices } from './ops/reduce.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd/mode.js';
export { grad, valueAndGrad, vjp } from './autograd/functional.js';
export { gradcheck, GradcheckError, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.js';
export { AutogradError } from './autograd/node.js';
export type { BackwardOptions } from './autograd/backward.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export { jit, clearJitCaches } from './jit/jit.js';
export type { JitOptions, JitStats, JitFunction, Explanation } from './jit/jit-options.js';
export { printGraph, type Graph, type Node as GraphNode } from '../compiler/ir/graph.js';
export { printGraphExact, parseGraph } from '../compiler/ir/text.js';
export { verifyGraph } from '../compiler/ir/verify.js';
export { runPasses, defaultPasses, type NamedPass, type PassReport } from '../compiler/passes/pipeline.js';
export { trace, type TracedGraph, type OptimizedGraph } from './jit/stage.js';
export { evaluateGraph, type GraphInputs, type GraphValues } from './jit/evaluate-graph.js';
export { toDot } from '../compiler/ir/dot.js';
export {
  Rebuilder, graphFacts, writesBetween, isView, nodeLabel, EXTERNAL,
  type Pass, type PassResult, type PassInfo, type GraphFacts,
} from '../compiler/passes/pass.js';
export type { EffectOp, EffectParams, InputSource } from '../compiler/ir/graph.js';
export { primitiveRules, type Prim, type Params as PrimParams } from '../compiler/ir/primitives.js';
export { GraphVerifyError } from '../compiler/ir/verify.js';
export { GraphSyntaxError } from '../compiler/ir/text.js';
export { explainHtml } from './jit/explain-html.js';
export type {
  ExplainSections, ExplainedVariant, ExplainedKernel, ExplainedGuard, PassStage, SectionName,
} from './jit/explain.js';
export type { LoweredGraph } from './jit/stage.js';
