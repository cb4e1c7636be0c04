/**
 * Line and stacked-area charts of per-bin series over capture time (connections opened / closed /
 * reset, state populations, retransmissions), drawn with d3-scale and d3-shape.
 */
import { scaleLinear } from 'd3-scale';
import { area, curveStepAfter, line, stack, stackOrderNone, stackOffsetNone } from 'd3-shape';
import type { TimeBins } from '../view-model.ts';
import { c, escapeXml, legend, roundPath, svgOpen, xAxis, yAxis } from './common.ts';

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
  readonly dashed?: boolean;
}

export interface SeriesChartOptions {
  readonly title: string;
  readonly bins: TimeBins;
  readonly series: readonly ChartSeries[];
  /** Stacked areas (populations) instead of lines (rates). */
  readonly stacked: boolean;
  /** Label of the value axis, e.g. `per 0.5 s`. */
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
  /** A compact chart without legend (sparklines of the service section). */
  readonly compact?: boolean;
}

/** Renders the chart as an `<svg>` string; every number rounded to 2 decimals. */
export function renderSeriesChart(o: SeriesChartOptions): string {
  const width = o.width ?? 460;
  const plotH = o.height ?? 150;
  const left = o.compact ? 34 : 46;
  const right = 12;
  const lg = o.compact
    ? { svg: '', height: 0 }
    : legend(
        o.series.map((s) => ({ label: s.label, color: s.color, ...(s.dashed === undefined ? {} : { dashed: s.dashed }) })),
        left,
        22,
        width - left - right,
      );
  const top = o.compact ? 18 : 28 + lg.height;
  const height = top + plotH + (o.compact ? 30 : 40);
  const n = o.bins.count;
  const x = scaleLinear()
    .domain([0, n * o.bins.widthSeconds])
    .range([left, width - right]);
  let max = 0;
  if (o.stacked) {
    for (let i = 0; i < n; i += 1) {
      let sum = 0;
      for (const s of o.series) sum += s.values[i] ?? 0;
      if (sum > max) max = sum;
    }
  } else {
    for (const s of o.series) for (const v of s.values) if (v > max) max = v;
    // Counts: keep the axis on whole numbers (0..4 at least) rather than 0.5 steps.
    if (max > 0) max = Math.max(max, 4);
  }
  const y = scaleLinear()
    .domain([0, max > 0 ? max : 1])
    .nice(4)
    .range([top + plotH, top]);
  let out = svgOpen(width, height, o.title, o.compact ? 'chart spark' : 'chart');
  out += `<text x="${left}" y="13" font-weight="600">${escapeXml(o.title)}</text>`;
  out += `<text x="${width - right}" y="13" text-anchor="end" fill="#666" font-size="10">${escapeXml(o.yLabel)}</text>`;
  out += lg.svg;
  out += yAxis(y, left, width - right, o.compact ? 2 : 4);
  // Step curves: bin i covers [i·w, (i+1)·w); one extra point closes the last step.
  const xs = Array.from({ length: n + 1 }, (_, i) => i * o.bins.widthSeconds);
  if (o.stacked) {
    const keys = o.series.map((_, i) => i);
    const rows = xs.map((_, i) => keys.map((k) => o.series[k]!.values[Math.min(i, n - 1)] ?? 0));
    const layers = stack<number[], number>()
      .keys(keys)
      .value((row, k) => row[k] ?? 0)
      .order(stackOrderNone)
      .offset(stackOffsetNone)(rows);
    const shape = area<[number, number]>()
      .x((_, i) => x(xs[i] ?? 0))
      .y0((d) => y(d[0]))
      .y1((d) => y(d[1]))
      .curve(curveStepAfter);
    layers.forEach((layer, k) => {
      const s = o.series[k]!;
      const points = layer.map((d) => [d[0], d[1]] as [number, number]);
      out += `<path d="${roundPath(shape(points))}" fill="${s.color}" fill-opacity="0.85" stroke="${s.color}" stroke-width="0.5"><title>${escapeXml(s.label)}</title></path>`;
    });
  } else {
    const shape = line<number>()
      .x((_, i) => x(xs[i] ?? 0))
      .y((v) => y(v))
      .curve(curveStepAfter);
    for (const s of o.series) {
      const values = xs.map((_, i) => s.values[Math.min(i, n - 1)] ?? 0);
      const dash = s.dashed === true ? ' stroke-dasharray="5 3"' : '';
      out += `<path d="${roundPath(shape(values))}" fill="none" stroke="${s.color}" stroke-width="1.6"${dash}><title>${escapeXml(s.label)}</title></path>`;
    }
  }
  out += xAxis(x, top + plotH, o.compact ? 4 : 6, o.compact ? '' : 'seconds since capture start');
  if (max === 0) {
    out += `<text x="${c((left + width - right) / 2)}" y="${c(top + plotH / 2)}" text-anchor="middle" fill="#888">none in this capture</text>`;
  }
  return `${out}</svg>`;
}
