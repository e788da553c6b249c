/**
 * A standalone SVG line chart (axes, "nice" ticks, labels, legend) for loss curves. It has
 * no dependencies so that examples can write a plot without a charting library.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** One line: y values at x = 1, 2, 3, … unless `x` is given. */
export interface Series {
  name: string;
  y: readonly number[];
  x?: readonly number[];
  color?: string;
  /** Line width in pixels (default 2). */
  width?: number;
  /** Line opacity (default 1). */
  opacity?: number;
}

export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Start the y axis at zero (default true when every value is non-negative). */
  yFromZero?: boolean;
  /** x ticks only at whole numbers (epochs). */
  xInteger?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** Ticks at 1, 2 or 5 × 10^k that cover [lo, hi] with about `count` steps. */
export function niceTicks(lo: number, hi: number, count = 5, minStep = 0): number[] {
  if (!(hi > lo)) {
    // A flat line still needs an axis: widen around the single value.
    const pad = Math.max(lo === 0 ? 1 : Math.abs(lo) * 0.1, minStep);
    return niceTicks(lo - pad, hi + pad, count, minStep);
  }
  const raw = Math.max((hi - lo) / count, minStep);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  // Rounding to the step's decimals keeps 0.30000000000000004 out of the labels.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  for (let v = first; v < hi + step * 0.5; v += step) ticks.push(Number(v.toFixed(decimals)));
  if (ticks[ticks.length - 1]! < hi) ticks.push(Number((ticks[ticks.length - 1]! + step).toFixed(decimals)));
  return ticks;
}

function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(6)));
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The SVG document of a line chart of `series`. */
export function lineChartSvg(series: readonly Series[], options: ChartOptions = {}): string {
  const { title = '', xLabel = '', yLabel = '', width = 640, height = 400 } = options;
  const points = series.map((s) => s.y.map((y, i) => [s.x?.[i] ?? i + 1, y] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const xs = points.flat().map(([x]) => x);
  const ys = points.flat().map(([, y]) => y);
  if (xs.length === 0) throw new Error('lineChartSvg: no finite points to plot');
  const yFromZero = options.yFromZero ?? Math.min(...ys) >= 0;
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), 6, options.xInteger ? 1 : 0);
  const yTicks = niceTicks(yFromZero ? Math.min(0, ...ys) : Math.min(...ys), Math.max(...ys), 5);
  const [x0, x1] = [xTicks[0]!, xTicks[xTicks.length - 1]!];
  const [y0, y1] = [yTicks[0]!, yTicks[yTicks.length - 1]!];

  const m = { left: 64, right: 20, top: title ? 40 : 16, bottom: 52 };
  const pw = width - m.left - m.right, ph = height - m.top - m.bottom;
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const r = (v: number) => Number(v.toFixed(2));

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  if (title) out.push(`<text x="${r(m.left + pw / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>`);
  // Grid lines and tick labels.
  for (const t of yTicks) {
    const y = r(sy(t));
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${fmtTick(t)}</text>`);
  }
  for (const t of xTicks) {
    const x = r(sx(t));
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#f0f0f0"/>`);
    out.push(`<line x1="${x}" y1="${m.top + ph}" x2="${x}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle" fill="#444">${fmtTick(t)}</text>`);
  }
  // Axes.
  out.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333"/>`);
  if (xLabel) out.push(`<text x="${r(m.left + pw / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  if (yLabel) out.push(`<text transform="translate(16 ${r(m.top + ph / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  // Lines, with dots when there are few enough points to tell them apart.
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const pts = points[i]!;
    if (pts.length === 0) return;
    const style = `stroke-width="${s.width ?? 2}"${s.opacity !== undefined ? ` stroke-opacity="${s.opacity}"` : ''}`;
    out.push(`<polyline fill="none" stroke="${color}" ${style} stroke-linejoin="round" points="${pts.map(([x, y]) => `${r(sx(x))},${r(sy(y))}`).join(' ')}"/>`);
    if (pts.length <= 60) for (const [x, y] of pts) out.push(`<circle cx="${r(sx(x))}" cy="${r(sy(y))}" r="2.5" fill="${color}"/>`);
  });
  // Legend in the top-right corner of the plot area.
  if (series.length > 1 || series[0]!.name) {
    out.push(`<rect x="${m.left + pw - 158}" y="${m.top + 2}" width="154" height="${series.length * 18 + 4}" fill="#fff" fill-opacity="0.85"/>`);
    series.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length]!;
      const y = m.top + 12 + i * 18;
      const x = m.left + pw - 150;
      out.push(`<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${color}" stroke-width="2"${s.opacity !== undefined ? ` stroke-opacity="${s.opacity}"` : ''}/>`);
      out.push(`<text x="${x + 26}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
    });
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * Writes the loss curve of a training run as an SVG file: the loss of every batch (thin,
 * faint: it shows the noise) and the mean of each epoch (plotted at the epoch's end), on an
 * x axis in epochs. Returns the absolute path.
 */
export function writeLossSvg(path: string, title: string, epochLosses: readonly number[], batchLosses: readonly number[] = []): string {
  const series: Series[] = [];
  if (batchLosses.length > 0) {
    const perEpoch = batchLosses.length / epochLosses.length;
    series.push({ name: 'batch loss', y: batchLosses, x: batchLosses.map((_, i) => (i + 1) / perEpoch), color: '#9ecae1', width: 1 });
  }
  series.push({ name: 'epoch mean', y: epochLosses, color: '#1f77b4' });
  const full = resolve(path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, lineChartSvg(series, { title, xLabel: 'epoch', yLabel: 'cross-entropy loss', xInteger: true }));
  return full;
}
