// Timeouts sized for CI: a loaded 2-core machine, where child-process, Vite, WebGPU
// (lavapipe) and random-graph tests take many times what they take on an idle one.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
