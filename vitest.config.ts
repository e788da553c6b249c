// Timeouts sized for CI: a loaded 2-core machine, where child-process, Vite, WebGPU
// (lavapipe) and random-graph tests take many times what they take on an idle one.
import { defineConfig } from 'vitest/config';

/**
 * The CPU suites that also run on the pure JavaScript engine (KILN_CPU=js: no Wasm gemm), the
 * reference and fallback: the op table (eager against the reference, jit against eager,
 * gradients by finite differences), gradients of every primitive, whole training steps under
 * jit, and symbolic sizes. Every other suite runs on the default engine (typed arrays, the
 * Wasm SIMD gemm where SIMD exists).
 */
const JS_ENGINE_SUITES = [
  'test/src/ops/op-table.test.ts',
  'test/src/autograd/primitive-grads.test.ts',
  'test/src/jit/training.test.ts',
  'test/src/jit/sizes.test.ts',
];

/**
 * The suites that run again with tensors in the WebAssembly memory (KILN_CPU=wasm): the same
 * op table, gradients, training steps and random programs (jit equal to eager bit for bit on
 * Wasm kernels), the models of the programs suite, the engines side by side, memory over
 * 10,000 steps, and kernels split over threads.
 */
const WASM_ENGINE_SUITES = [
  ...JS_ENGINE_SUITES,
  'test/src/nn/programs.test.ts',
  'test/src/jit/differential.test.ts',
  'test/fuzz/fuzz.test.ts',
  'test/src/backends/*.test.ts',
  'test/src/cpu-memory.test.ts',
  'test/runtime/wasm/split.test.ts',
  'test/compiler/codegen/wasm-render.test.ts',
  'test/compiler/wasm-matmul-epilogue.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'default' } },
      { extends: true, test: { name: 'cpu-js', include: JS_ENGINE_SUITES, env: { KILN_CPU: 'js' } } },
      { extends: true, test: { name: 'cpu-wasm', include: WASM_ENGINE_SUITES, env: { KILN_CPU: 'wasm' } } },
    ],
  },
});
