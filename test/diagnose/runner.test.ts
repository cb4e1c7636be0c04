import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DETECTORS, runDetectors, DEFAULT_DIAGNOSE_OPTIONS } from '../../src/diagnose/index.ts';
import type { AnyDetector } from '../../src/diagnose/index.ts';
import { buildFlow, cleanFlow, inputOf, T0 } from './flow-builder.ts';

const refused = (id: number) =>
  buildFlow({ id, server: { ip: '10.0.0.2', port: 81 }, segments: [[0, 'client', 'S', 0, -1, 0], [0.0001, 'server', 'RA', 0, 1, 0]] });

describe('runDetectors', () => {
  it('registry: unique kebab-case ids, every detector has thresholds in DEFAULT_DIAGNOSE_OPTIONS', () => {
    const ids = DETECTORS.map((d) => d.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const d of DETECTORS) {
      assert.match(d.id, /^[a-z]+(-[a-z]+)*$/);
      assert.ok(d.id in DEFAULT_DIAGNOSE_OPTIONS, d.id);
      assert.ok(d.title.length > 0 && d.description.length > 0);
    }
    assert.equal(ids.length, 16);
  });

  it('a clean connection yields no warning or error finding, and every detector runs ok', () => {
    const r = runDetectors(inputOf([cleanFlow(1), cleanFlow(2, T0 + 1)]));
    assert.deepEqual(r.findings.filter((f) => f.severity !== 'info'), []);
    assert.ok(r.detectors.every((d) => d.status === 'ok'));
    assert.equal(r.detectors.length, DETECTORS.length);
    assert.deepEqual(r.quality.items, []);
  });

  it('a throwing detector becomes an error entry and the others still report', () => {
    const boom: AnyDetector = {
      id: 'boom',
      title: 'Boom',
      description: 'throws',
      severity: 'error',
      defaultOptions: {},
      evaluate() {
        throw new Error('kaput');
      },
    };
    const r = runDetectors(inputOf([refused(1)]), { detectors: [boom, ...DETECTORS] });
    assert.deepEqual(r.detectors[0], { id: 'boom', status: 'error', findings: 0, error: 'kaput' });
    assert.deepEqual(r.findings.map((f) => f.id), ['connection-refused']);
    assert.equal(r.detectors.find((d) => d.id === 'connection-refused')?.findings, 1);
  });

  it('orders findings error > warning > info, then count, id, endpoint, and is deterministic', () => {
    const flows = [
      refused(1),
      refused(2),
      buildFlow({ id: 3, server: { ip: '10.0.0.3', port: 81 }, segments: [[0, 'client', 'S', 0, -1, 0], [0.0001, 'server', 'RA', 0, 1, 0]] }),
      // a SYN dropped by a listener that answered flow 5: an error
      buildFlow({ id: 4, segments: [[0, 'client', 'S', 0, -1, 0], [1, 'client', 'S', 0, -1, 0, 'syn']] }),
      cleanFlow(5),
    ];
    const a = runDetectors(inputOf(flows));
    const b = runDetectors(inputOf([...flows]));
    assert.deepEqual(a, b);
    const order = a.findings.map((f) => `${f.severity}:${f.id}:${f.endpoint}:${f.count}`);
    assert.deepEqual(order, [
      'error:syn-dropped:10.0.0.2:8080:1',
      'warning:connection-refused:10.0.0.2:81:2',
      'warning:connection-refused:10.0.0.3:81:1',
      'warning:syn-retransmit:10.0.0.2:8080:1',
    ]);
  });

  it('threshold overrides reach the detector and disable skips it', () => {
    const flows = [refused(1)];
    assert.equal(runDetectors(inputOf(flows), { thresholds: { 'connection-refused': { minConnections: 2 } } }).findings.length, 0);
    const r = runDetectors(inputOf(flows), { disable: ['connection-refused'] });
    assert.equal(r.findings.length, 0);
    assert.ok(!r.detectors.some((d) => d.id === 'connection-refused'));
  });

  it('a finding fills every field, with exact frame filter and ISO times', () => {
    const [f] = runDetectors(inputOf([refused(7)])).findings;
    assert.ok(f);
    assert.equal(f.wiresharkFilter, 'frame.number in {700 701}');
    assert.deepEqual(f.frames, [700, 701]);
    assert.equal(f.framesTotal, 2);
    assert.deepEqual(f.flows, [7]);
    assert.equal(f.firstTs, '2024-01-01T00:00:00.000000Z');
    assert.equal(f.lastTs, '2024-01-01T00:00:00.000100Z');
    assert.ok(f.summary.includes('1 connection attempt'));
    assert.ok(f.causes.length > 0 && f.checks.some((c) => c.includes('ss -lnt')));
  });
});
