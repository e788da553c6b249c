/**
 * explain() reads top-down: a summary that fits a screen (what compiled, how many kernels,
 * why it recompiled, with source lines) and the long parts as sections on request.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Tensor, cpuEngineInfo, jit, manualSeed, nn, optim, randint, randn, tensor } from '../../../src/index.js';
import { Attention } from '../export/models.js';
import { expectSameTensor, lineOf } from './compare.js';

const here = new URL(import.meta.url).pathname;

afterEach(() => {
  vi.restoreAllMocks();
});

/** A training step of the attention block: forward, cross entropy over its last position, backward, Adam. */
function attentionStep() {
  manualSeed(3);
  const block = new Attention(16);
  const head = new nn.Linear(16, 4);
  const opt = new optim.Adam([...block.parameters(), ...head.parameters()], { lr: 1e-3 });
  return jit((x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const h = block.forward(x);
    const loss = nn.crossEntropy(head.forward(h.slice(1, 4, 5).reshape([2, 16])), y);
    loss.backward();
    opt.step();
    return loss.detach();
  });
}

// Training steps trace three times and compile hundreds of nodes: seconds on a loaded machine.
describe('explain of an attention training step', { timeout: 60_000 }, () => {
  it('summarizes in at most 60 lines, with one guard from the optimizer, and keeps all detail reachable', () => {
    const step = attentionStep();
    const x = randn([2, 5, 16]),
      y = randint(0, 4, [2]);
    // Adam's state is made on the first step, so the first two traces differ: 3 traces, then replays.
    for (let i = 0; i < 5; i++) step(x, y);
    expect(step.stats.replays).toBe(2);
    const e = step.explain(x, y);
    const summary = e.toString();
    expect(summary.split('\n').length).toBeLessThanOrEqual(60);
    expect(summary).toMatch(/: compiled\n/);
    const cpu = cpuEngineInfo();
    expect(summary).toContain(`CPU kernels run on the ${cpu.engine} engine (${cpu.reason})`);
    expect(summary).toMatch(
      /variant 1 \(cpu\): \d+ nodes recorded, \d+ after passes; \d+ captured tensors, 0 random draws, 1 guards/,
    );
    expect(summary).toMatch(
      /\d+ kernels per call \(\d+ ops before fusion\), peak \d+ bytes of intermediates, compiled in [\d.]+ ms/,
    );
    // Whether weight decay is 0, read before the step writes anything.
    expect(e.variants[0]!.guards.map((g) => g.expected)).toEqual([[1]]);
    const full = e.format({ all: true });
    expect(full.length).toBeGreaterThan(summary.length * 10);
    for (const part of ['recorded IR:', 'optimized IR', 'pass simplify', 'kernel 1 (', 'events:'])
      expect(full).toContain(part);
    // Every kernel is listed, plain (unfused) matmuls included, each with the nodes it computes.
    const kernels = e.variants[0]!.kernels;
    expect(kernels.length).toBe(e.variants[0]!.kernelCount);
    expect(kernels.some((k) => k.kind.startsWith('matmul'))).toBe(true);
    expect(e.sections.kernels).toContain('computes %');
  });

  it('a step with SGD (momentum 0, no weight decay) guards only that both are 0, before it writes', () => {
    manualSeed(4);
    const model = new nn.Linear(8, 3);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const step = jit((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      nn.crossEntropy(model.forward(x), y).backward();
      opt.step();
    });
    const x = randn([4, 8]),
      y = randint(0, 3, [4]);
    for (let i = 0; i < 4; i++) step(x, y);
    expect(step.stats.replays).toBe(2);
    const guards = step.explain(x, y).variants[0]!.guards;
    expect(guards.map((g) => g.expected)).toEqual([[1], [1]]);
  });
});

describe('why it recompiled', { timeout: 60_000 }, () => {
  it('"trace 2 differs" names the first differing node and the line that made it', () => {
    let calls = 0;
    const f = jit((x: Tensor) => {
      calls++;
      const y = x.add(1);
      return calls === 1 ? y.mul(2) : y.sub(2); // differs: second trace
    });
    f(tensor([1, 2]));
    f(tensor([1, 2]));
    const event = f.explain(tensor([1, 2])).events.find((ev) => ev.startsWith('trace 2'));
    expect(event).toMatch(
      /differs from the previous one, first at %\d+ \(made at [^)]*\): the previous trace recorded `%\d+ = mul\([^`]*`, this one `%\d+ = sub\(/,
    );
    expect(event).toMatch(
      new RegExp(`made at \\S*explain\\.test\\.ts:${lineOf(here, 'differs: second trace')}:\\d+\\)`),
    );
    // The summary's first screen shows it too, with the line.
    expect(String(f.explain(tensor([1, 2])))).toMatch(
      new RegExp(`trace 2 of this signature differs .*explain\\.test\\.ts:${lineOf(here, 'differs: second trace')}`),
    );
  });

  it('the summary names the guard that separates two variants, with its line', () => {
    const f = jit((x: Tensor) => (x.sum().item() > 0 ? x.relu() : x.neg())); // separating guard
    const pos = tensor([1, 2]),
      neg = tensor([-1, -2]);
    for (const t of [pos, pos, neg, neg]) f(t);
    const summary = f.explain(pos).toString();
    expect(summary).toMatch(
      new RegExp(
        `differs from variant 1: item\\(\\) at \\S*explain\\.test\\.ts:${lineOf(here, 'separating guard')}:\\d+: \\[-3\\] vs \\[3\\]`,
      ),
    );
  });

  it('a guard raised inside kiln names the library line and the user call', () => {
    // Reading a hyper-parameter in JS reads its tensor: the user never called item().
    const model = new nn.Linear(3, 2);
    const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
    const f = jit((x: Tensor) => x.mul(opt.paramGroups[0]!.lr)); // user reads lr
    const x = randn([4, 3]);
    f(x);
    f(x);
    const g = f.explain(x).variants[0]!.guards[0]!;
    expect(g.how).toMatch(/^item\(\) in kiln's src\/optim\/optimizer\.ts:\d+:\d+$/);
    expect(g.site).toMatch(new RegExp(`explain\\.test\\.ts:${lineOf(here, 'user reads lr')}:\\d+$`));
  });

  it('batch norm with a cumulative average (momentum null) compiles without a guard', () => {
    const bn = new nn.BatchNorm1d(3, { momentum: null });
    const twin = new nn.BatchNorm1d(3, { momentum: null });
    const f = jit((x: Tensor) => bn.forward(x));
    for (let i = 0; i < 5; i++) {
      const x = randn([4, 3]);
      expectSameTensor(f(x), twin.forward(x), `call ${i + 1}`);
    }
    expect(f.stats.replays).toBeGreaterThan(0);
    expect(f.stats.fallbacks).toBe(0);
    expect(f.explain(randn([4, 3])).variants[0]!.guards).toEqual([]);
    expectSameTensor(bn.runningMean!, twin.runningMean!, 'running mean');
    expectSameTensor(bn.runningVar!, twin.runningVar!, 'running variance');
  });
});

describe('explain on a jit method', () => {
  it('explains the object the method last ran on', () => {
    class Scaler {
      constructor(readonly k: number) {}
      scale(x: Tensor): Tensor {
        return x.mul(this.k);
      }
    }
    const method = jit(Scaler.prototype.scale, {
      kind: 'method',
      name: 'scale',
    } as unknown as ClassMethodDecoratorContext);
    Scaler.prototype.scale = method;
    const s = new Scaler(3);
    const x = tensor([1, 2]);
    s.scale(x);
    s.scale(x);
    const e = (method as unknown as { explain(x: Tensor): { state: string } }).explain(x);
    expect(e.state).toBe('compiled');
  });
});
