/**
 * The diagnose runner: capture quality first, then every registered detector over the closed
 * flows, each isolated (a throwing detector becomes an `error` {@link DetectorRun}), then one
 * deterministic ordering of all findings.
 */
import type { FlowList } from '../tcp/types.ts';
import { forgetFlowIndex } from './aggregates.ts';
import { forgetScans } from './port-scan.ts';
import { DETECTORS } from './registry.ts';
import type { AnyDetector } from './registry.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { DiagnoseThresholds } from './options.ts';
import { assessCaptureQuality } from './quality.ts';
import type { CaptureQuality, DetectorInput, DetectorRun, Finding, Severity } from './types.ts';

/** Options of {@link runDetectors}. Every field is optional; defaults are documented on each. */
export interface DiagnoseOptions {
  /** Per detector id, thresholds overriding {@link DEFAULT_DIAGNOSE_OPTIONS}. Default: none. */
  readonly thresholds?: { readonly [K in keyof DiagnoseThresholds]?: Partial<DiagnoseThresholds[K]> };
  /** Detector ids to skip. Default: none. */
  readonly disable?: readonly string[];
  /** The detectors to run, for tests and embedders. Default: the registry ({@link DETECTORS}). */
  readonly detectors?: readonly AnyDetector[];
}

/** What {@link runDetectors} returns. */
export interface DiagnoseResult {
  readonly findings: Finding[];
  readonly detectors: DetectorRun[];
  readonly quality: CaptureQuality;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** The report order: error > warning > info, then count descending, then id, then endpoint, then first flow. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    b.count - a.count ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) ||
    (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0) ||
    (a.flows[0] ?? 0) - (b.flows[0] ?? 0) ||
    (a.summary < b.summary ? -1 : a.summary > b.summary ? 1 : 0)
  );
}

/**
 * Runs the detectors over `input`. Pure apart from the detectors themselves: no I/O, no clock.
 * Never throws because of a detector: its exception becomes `{status: 'error', error: message}`
 * and the others still run. Walks `input.flows` once (the shared pre-pass, see aggregates.ts)
 * plus `at()` of candidate positions; throws when the list breaks the {@link FlowList} contract
 * (it yields another number of flows than its `length`).
 */
export function runDetectors(input: DetectorInput, options: DiagnoseOptions = {}): DiagnoseResult {
  try {
    // The first read of the shared pre-pass (flowIndex): the one walk over `input.flows`.
    const quality = assessCaptureQuality(input);
    const detectors = options.detectors ?? DETECTORS;
    const disabled = new Set(options.disable ?? []);
    const overrides = (options.thresholds ?? {}) as Readonly<Record<string, object | undefined>>;
    const findings: Finding[] = [];
    const runs: DetectorRun[] = [];
    for (const detector of detectors) {
      if (disabled.has(detector.id)) continue;
      const detectorOptions = { ...detector.defaultOptions, ...(overrides[detector.id] ?? {}) };
      try {
        const produced = detector.evaluate(input, detectorOptions);
        findings.push(...produced);
        runs.push({ id: detector.id, status: 'ok', findings: produced.length });
      } catch (error: unknown) {
        const message = error instanceof Error ? error.message : String(error);
        runs.push({ id: detector.id, status: 'error', findings: 0, error: message });
      }
    }
    findings.sort(compareFindings);
    return { findings, detectors: runs, quality };
  } finally {
    // Findings hold plain data only: the index and its candidate records can go now, although
    // the list itself lives on (the report reads it again).
    forgetFlowIndex(input.flows);
    forgetScans(input.flows);
  }
}

export { DEFAULT_DIAGNOSE_OPTIONS };
