/**
 * The diagnosis on a second core: `tcpmortem report` with more than one job runs the detectors in
 * a worker thread while the report's own pass over the flows (the time series, populations,
 * services and hosts of the view) runs on the calling thread. The two read the same flows (shared
 * memory, see flow-list-parts.ts) and neither depends on the other until the view needs the
 * findings, so on two cores the report costs about the longer of the two instead of their sum.
 * The result is the one `runDetectors` gives in this thread: the same code over the same flows.
 *
 * @module
 */
import { startWorker } from './start-worker.ts';
import type { DiagnoseOptions, DiagnoseResult } from '../diagnose/run-detectors.ts';
import type { CaptureFacts } from '../report/model.ts';
import type { FlowList } from '../tcp/types.ts';
import { shareFlowList } from './flow-list-parts.ts';
import type { FlowListParts } from './flow-list-parts.ts';

/** What the worker receives. */
export interface DiagnoseRequest {
  readonly flows: FlowListParts;
  readonly capture: CaptureFacts;
  readonly options: Omit<DiagnoseOptions, 'detectors'>;
}

/** What the worker answers. */
export type DiagnoseReply = { readonly type: 'done'; readonly result: DiagnoseResult } | { readonly type: 'error'; readonly message: string };

/**
 * Young-generation size of the worker's heap: it runs beside the report's pass over the flows, so
 * the two heaps' garbage peaks together. Measured with `tcpmortem report --jobs 2` on the
 * benchmark capture: 4 MB peaked at 305-307 MB, 8 MB at 307-308 MB, 16 MB (V8's default here)
 * at 313-314 MB, 32 MB at 329-333 MB; the time the same within the machine's noise.
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/**
 * A worker thread for one diagnosis, started ahead of it: loading the worker's modules takes
 * ~75 ms, which a caller can overlap with the analysis by starting the thread first. It does not
 * keep the process alive until {@link run}; {@link close} it when it is not used.
 */
export class DiagnosisThread {
  private readonly worker = startWorker('diagnose-worker', WORKER_YOUNG_GENERATION_MB);
  private used = false;

  constructor() {
    this.worker.unref();
  }

  /**
   * Starts the diagnosis of `input` there and returns its result to come; undefined when it cannot
   * run there (a list of records rather than an analysis's store, or detectors given as
   * functions): run `runDetectors` in this thread then (and close this one). Rejects when the
   * worker fails. Once per thread; it ends with the result.
   */
  run(input: { readonly flows: FlowList; readonly capture: CaptureFacts }, options: DiagnoseOptions = {}): Promise<DiagnoseResult> | undefined {
    if (this.used) throw new Error('DiagnosisThread.run called twice');
    if (options.detectors !== undefined) return undefined;
    const flows = shareFlowList(input.flows);
    if (flows === undefined) return undefined;
    this.used = true;
    const worker = this.worker;
    worker.ref();
    const request: DiagnoseRequest = { flows, capture: input.capture, options };
    worker.postMessage(request);
    return new Promise<DiagnoseResult>((resolve, reject) => {
      let settled = false;
      worker.once('message', (reply: DiagnoseReply) => {
        settled = true;
        void worker.terminate();
        if (reply.type === 'done') resolve(reply.result);
        else reject(new Error(`diagnosis thread failed: ${reply.message}`));
      });
      worker.once('error', (error: Error) => {
        if (settled) return;
        settled = true;
        void worker.terminate();
        reject(error);
      });
      worker.once('exit', (code) => {
        if (!settled) {
          settled = true;
          reject(new Error(`diagnosis thread exited with code ${code}`));
        }
      });
    });
  }

  /** Stops the thread (when {@link run} was not called, or to abandon it). */
  close(): void {
    void this.worker.terminate();
  }
}
