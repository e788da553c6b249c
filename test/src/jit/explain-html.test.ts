/**
 * Graph pictures: DOT text and the self-contained explain page, for an MLP training step and
 * the attention block. No browser is needed: the tests parse what is produced.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Tensor, explainHtml, jit, manualSeed, nn, optim, randint, randn, toDot, trace } from '../../../src/node.js';
import { Attention } from '../export/models.js';

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

/** Checks that every element closes in order; returns the elements as [tag, attributes text]. */
function parseHtml(html: string): [string, string][] {
  const stack: string[] = [];
  const elements: [string, string][] = [];
  // Inside <script>, <pre> and text, '<' only ever appears as &lt; (the page escapes all text).
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*)>|<!doctype html>/g)) {
    if (m[2] === undefined) continue;
    const tag = m[2].toLowerCase();
    if (m[1] === '/') {
      expect(stack.pop(), `closing </${tag}>`).toBe(tag);
    } else {
      elements.push([tag, m[3]!]);
      if (!VOID.has(tag)) stack.push(tag);
    }
  }
  expect(stack).toEqual([]);
  return elements;
}

function checkPage(html: string, passes: number): void {
  const elements = parseHtml(html);
  // Offline: nothing is fetched.
  expect(html).not.toMatch(/\b(src|href)=|@import|url\(/);
  expect(html).not.toMatch(/https?:/);
  const ids = new Set(elements.flatMap(([, a]) => [...a.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]!)));
  expect(ids.has('summary')).toBe(true);
  expect(ids.has('v1')).toBe(true);
  // The IR before and after each pass.
  expect(elements.filter(([t, a]) => t === 'details' && a.includes('class="pass"')).length).toBe(passes);
  expect(html).toContain('<h4>before simplify</h4>');
  expect(html).toContain('<h4>after dce</h4>');
  // Fusion groups: coloured lines, each pointing at a kernel whose code is on the page.
  const targets = [...html.matchAll(/data-kernel="([^"]+)" style="background:hsl\(\d+ 75% 86%\)"/g)].map((m) => m[1]!);
  expect(targets.length).toBeGreaterThan(0);
  for (const t of targets) expect(ids.has(t), t).toBe(true);
  const code = [...html.matchAll(/<pre class="code"><code>([^<]*)<\/code><\/pre>/g)].map((m) => m[1]!);
  expect(code.length).toBeGreaterThan(0);
  expect(code.some((c) => c.includes('for ('))).toBe(true);
  expect(html).toContain('<h3>Guards</h3>');
  expect(html).toMatch(/compile time<\/th><td>[\d.]+ ms/);
}

function mlpStep() {
  manualSeed(5);
  const model = new nn.Sequential(new nn.Linear(12, 16), new nn.ReLU(), new nn.Linear(16, 4));
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  return jit(function mlpStep(x: Tensor, y: Tensor) {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.detach();
  });
}

describe('explain as a self-contained HTML page', { timeout: 60_000 }, () => {
  it('an MLP training step: passes before and after, fusion groups, kernel code, guards, timings', () => {
    const step = mlpStep();
    const x = randn([8, 12]),
      y = randint(0, 4, [8]);
    for (let i = 0; i < 4; i++) step(x, y);
    checkPage(explainHtml(step, x, y), 5);
  });

  it('the attention block', () => {
    manualSeed(6);
    const block = new Attention(16);
    const f = jit(function attention(x: Tensor) {
      return block.forward(x);
    });
    const x = randn([2, 5, 16]);
    for (let i = 0; i < 3; i++) f(x);
    checkPage(f.explain(x).html(), 5);
  });

  it('KILN_EXPLAIN_HTML writes one page per compiled variant', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-explain-'));
    const child = fileURLToPath(new URL('./fixtures/explain-pages.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, KILN_EXPLAIN_HTML: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const pages = readdirSync(dir).sort();
    expect(pages).toHaveLength(2);
    expect(pages[0]).toMatch(/^pages-[0-9a-f]{8}-v1\.html$/);
    for (const p of pages) parseHtml(readFileSync(join(dir, p), 'utf8'));
    expect(readFileSync(join(dir, pages[1]!), 'utf8')).toContain('Variant 2 (cpu)');
  }, 60_000);
});

describe('toDot', { timeout: 60_000 }, () => {
  /** Node ids declared, and edges between them: every edge must join declared nodes. */
  function parseDot(dot: string): { nodes: Set<string>; edges: [string, string][]; clusters: string[] } {
    expect(dot.startsWith('digraph kiln {')).toBe(true);
    expect([...dot].filter((c) => c === '{').length).toBe([...dot].filter((c) => c === '}').length);
    const nodes = new Set([...dot.matchAll(/^\s*(\w+) \[label=/gm)].map((m) => m[1]!));
    const edges = [...dot.matchAll(/^\s*(\w+) -> (\w+);$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]);
    for (const [a, b] of edges) expect(nodes.has(a) && nodes.has(b), `${a} -> ${b}`).toBe(true);
    return { nodes, edges, clusters: [...dot.matchAll(/subgraph "(cluster_[^"]+)"/g)].map((m) => m[1]!) };
  }

  it('draws the MLP step with its kernels as clusters', () => {
    const step = mlpStep();
    const x = randn([8, 12]),
      y = randint(0, 4, [8]);
    for (let i = 0; i < 4; i++) step(x, y);
    const v = step.explain(x, y).variants[0]!;
    const groups = v.kernels.map((k, i) => ({ label: `kernel ${i + 1} (${k.kind})`, nodes: k.nodes }));
    const dot = toDot(v.optimizedGraph!, { title: 'mlp step', groups });
    const parsed = parseDot(dot);
    expect(parsed.nodes.size).toBe(v.optimizedGraph!.nodes.length);
    expect(parsed.clusters).toHaveLength(groups.length);
    expect(dot).toMatch(/label="%\d+ = matmul\\nfloat32\[8,16\]"/);
  });

  it('draws a lifted loop with its condition and body as nested clusters', () => {
    const seed = jit(
      function seedLoop(a: Tensor, b: Tensor) {
        while (a < b) {
          a = a.add(2);
          b = b.add(1);
        }
        return [a, b];
      },
      { rewrite: true },
    );
    const t = trace(seed, randint(0, 3, [1]), randint(5, 9, [1]));
    const parsed = parseDot(toDot(t.graph));
    expect(parsed.clusters.filter((c) => /loop\d+_(cond|body)$/.test(c))).toHaveLength(2);
  });
});
