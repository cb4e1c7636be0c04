/**
 * Starts one of this folder's worker entries (`shard-worker`, `diagnose-worker`) from the compiled
 * code or, under tests, from the TypeScript sources.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';

/** Running from the TypeScript sources (tests, through tsx): a worker needs the same loader. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * A worker running `src/parallel/<entry>.ts` (or `dist/parallel/<entry>.js`), its heap's young
 * generation capped at `youngGenerationMb` (compiled code only: the source run is for tests).
 */
export function startWorker(entry: string, youngGenerationMb: number): Worker {
  const url = new URL(`./${entry}${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);
  if (FROM_SOURCE) {
    // tsx's loader must be registered inside the worker before the TypeScript entry loads.
    return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true });
  }
  return new Worker(url, { resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } });
}
