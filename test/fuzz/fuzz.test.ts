/**
 * The differential fuzzer inside `npm test`: a fixed seed, a few hundred CPU programs (every
 * fourth a gradient program) and a few dozen on WebGPU when an adapter exists. Any failure
 * prints its program seed, the command that reruns it, and the program shrunk to runnable
 * TypeScript. `npm run fuzz -- --n 10000 --seed S` runs more.
 */
import { describe, expect, it } from 'vitest';
import { initEagerForTests } from '../webgpu.js';
import { runCampaign, summarize, type CampaignOptions } from './campaign.js';
import { generate } from './generate.js';
import { printFunction } from './print.js';

const SEED = 20261206;

describe('differential fuzzing', () => {
  it('generates the same program from the same seed', () => {
    expect(printFunction(generate(7, 'values'))).toBe(printFunction(generate(7, 'values')));
    expect(printFunction(generate(7, 'values'))).not.toBe(printFunction(generate(8, 'values')));
  });

  it('CPU: eager vs the float64 reference, jit vs eager, gradients vs finite differences', async () => {
    const options: CampaignOptions = { seed: SEED, cpu: 280, webgpu: 0 };
    const result = await runCampaign(options);
    expect(result.runs['grad-vs-finite-differences']).toBe(70);
    const failures = result.classes.map((c) => c.printed).join('\n\n');
    expect(result.classes, `${summarize(options, result)}\n\n${failures}`).toEqual([]);
  }, 240_000);

  it('WebGPU: eager vs the float64 reference', async () => {
    if (!(await initEagerForTests('differential fuzzing'))) return;
    const options: CampaignOptions = { seed: SEED, cpu: 0, webgpu: 30 };
    const result = await runCampaign(options);
    const failures = result.classes.map((c) => c.printed).join('\n\n');
    expect(result.classes, `${summarize(options, result)}\n\n${failures}`).toEqual([]);
  }, 240_000);
});
