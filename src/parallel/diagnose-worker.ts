/**
 * The diagnosis in a worker thread (see DiagnosisThread): receives the flow list as shared
 * parts and the capture facts, runs every detector, posts the result back.
 *
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { runDetectors } from '../diagnose/index.ts';
import { flowListFromParts } from './flow-list-parts.ts';
import type { DiagnoseReply, DiagnoseRequest } from './diagnose-thread.ts';

const port = parentPort;
if (port === null) throw new Error('diagnose-worker must run in a worker thread');

port.once('message', (request: DiagnoseRequest) => {
  let reply: DiagnoseReply;
  try {
    const result = runDetectors({ flows: flowListFromParts(request.flows), capture: request.capture }, request.options);
    reply = { type: 'done', result };
  } catch (error) {
    reply = { type: 'error', message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
