/** The diagnose stage: closed flows and capture facts in, findings, detector runs and capture quality out. */
export { runDetectors, compareFindings } from './run-detectors.ts';
export type { DiagnoseOptions, DiagnoseResult } from './run-detectors.ts';
export { DETECTORS } from './registry.ts';
export type { AnyDetector } from './registry.ts';
export { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
export type * from './options.ts';
export { assessCaptureQuality, qualityCaveat } from './quality.ts';
export type { EvidenceKind } from './quality.ts';
export { inferVantage, majorityVantage, isInitialTtl } from './vantage.ts';
export type { Vantage, VantageGuess } from './vantage.ts';
export { MAX_FINDING_FLOWS, MAX_FINDING_FRAMES } from './types.ts';
export type {
  CaptureQuality,
  Detector,
  DetectorInput,
  DetectorRun,
  Finding,
  QualityItem,
  QualityItemId,
  Severity,
} from './types.ts';
