/**
 * First-call latency of jit, beside eager, for part of bench/jit.ts: what the first calls
 * of a freshly jit'd function cost before it replays (call 1 and call 2 trace, call 3 is the
 * first replay, which optimizes and fuses the graph). Each round makes fresh functions and
 * interleaves eager with the jit calls; the medians over rounds are reported, as times and
 * as ratios to eager. Kernel caches are process-wide, so rounds after the first compile no
 * kernel; round 1 is kept in the median like the others.
 *
 * Workloads: the MLP training step of bench/jit.ts, a small attention block (one head,
 * 64 tokens of width 64, under noGrad), and the seed loop with 100,000 iterations, both as
 * plain jit (which stops unrolling and stays eager) and lifted by the run-time rewrite.
 */
import * as k from '../src/node.js';

/** Milliseconds of one call. */
function time(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One workload: a fresh eager function and a fresh jit'd one per round, with the arguments of one call. */
interface Workload {
  name: string;
  rounds: number;
  fresh(): { eager: () => unknown; jitted: () => unknown };
}

/** Medians, in ms, of eager and of calls 1, 2 and 3 of a fresh jit'd function. */
export interface FirstCalls {
  workload: string;
  eager: number;
  call1: number;
  call2: number;
  call3: number;
}

function mlpStep(): () => { eager: () => unknown; jitted: () => unknown } {
  const x = k.rand([128, 784]), y = k.randint(0, 10, [128]);
  const step = () => {
    const model = new k.nn.Sequential(
      new k.nn.Linear(784, 256), new k.nn.ReLU(), new k.nn.Linear(256, 256), new k.nn.ReLU(), new k.nn.Linear(256, 10),
    );
    const opt = new k.optim.SGD(model.parameters(), { lr: 0.01 });
    return () => {
      opt.zeroGrad();
      const loss = k.nn.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss.detach();
    };
  };
  return () => ({ eager: step(), jitted: k.jit(step()) });
}

function attention(): () => { eager: () => unknown; jitted: () => unknown } {
  const x = k.randn([64, 64]), wq = k.randn([64, 64]), wk = k.randn([64, 64]), wv = k.randn([64, 64]);
  const block = (h: k.Tensor) => k.noGrad(() => {
    const q = h.matmul(wq), kk = h.matmul(wk), v = h.matmul(wv);
    return q.matmul(kk.t()).mul(1 / 8).softmax(-1).matmul(v).add(h);
  });
  return () => {
    const jitted = k.jit(block);
    return { eager: () => block(x), jitted: () => jitted(x) };
  };
}

function seedLoop(first: k.Tensor, second: k.Tensor): k.Tensor[] {
  while (first < second) {
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

function loop(options: k.JitOptions): () => { eager: () => unknown; jitted: () => unknown } {
  const int = (v: number) => k.tensor(v, { dtype: 'int32' });
  return () => {
    const jitted = k.jit(seedLoop, options);
    return { eager: () => seedLoop(int(0), int(100_000)), jitted: () => jitted(int(0), int(100_000)) };
  };
}

/** Runs every workload, with console.warn muted (the plain loop's warning says it stays eager, as expected). */
export function firstCalls(): FirstCalls[] {
  const workloads: Workload[] = [
    { name: 'MLP 784-256-256-10 SGD step, batch 128', rounds: 5, fresh: mlpStep() },
    { name: 'attention block, 64 tokens x 64', rounds: 7, fresh: attention() },
    { name: 'seed loop, 100,000 iterations, plain jit', rounds: 3, fresh: loop({}) },
    { name: 'seed loop, 100,000 iterations, lifted', rounds: 3, fresh: loop({ rewrite: true }) },
  ];
  const warn = console.warn;
  console.warn = () => {};
  try {
    return workloads.map((w) => {
      const samples: number[][] = [[], [], [], []];
      for (let r = 0; r < w.rounds; r++) {
        const { eager, jitted } = w.fresh();
        samples[0]!.push(time(eager));
        for (let c = 1; c <= 3; c++) samples[c]!.push(time(jitted));
      }
      const [eager, call1, call2, call3] = samples.map(median) as [number, number, number, number];
      return { workload: w.name, eager, call1, call2, call3 };
    });
  } finally {
    console.warn = warn;
  }
}
