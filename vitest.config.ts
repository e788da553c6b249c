// Timeouts sized for CI: a loaded 2-core machine, where child-process, Vite, WebGPU
// (lavapipe) and random-graph tests take many times what they take on an idle one.
import { defineConfig } from 'vitest/config';

/**
 * The CPU suites that run again on the JavaScript engine (KILN_CPU=js: typed arrays, generated
 * JavaScript loops, no Wasm kernel), the reference and the fallback where WebAssembly SIMD is
 * missing, so it keeps running the whole op table with jit equal to eager bit for bit: the op
 * table (eager against the reference, jit against eager, gradients by finite differences),
 * gradients of every primitive, whole training steps and random programs under jit, and
 * symbolic sizes. Every suite runs on the default engine (WebAssembly where SIMD exists);
 * test/src/backends/engines.test.ts compares the two engines from there.
 */
const JS_ENGINE_SUITES = [
  'test/src/ops/op-table.test.ts',
  'test/src/autograd/primitive-grads.test.ts',
  'test/src/jit/training.test.ts',
  'test/src/jit/differential.test.ts',
  'test/src/jit/sizes.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'default' } },
      { extends: true, test: { name: 'cpu-js', include: JS_ENGINE_SUITES, env: { KILN_CPU: 'js' } } },
    ],
  },
});
