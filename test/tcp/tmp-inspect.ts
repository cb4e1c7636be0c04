import { analyzeFile } from '../support/analyze-file.ts';
const r = await analyzeFile(process.argv[2]!);
for (const f of (r as any).flows ?? (r as any).report?.flows ?? []) {
  if (process.argv[3] && String(f.client.port) !== process.argv[3]) continue;
  console.log(f.id, f.client.ip, f.client.port, f.server.port, f.connState, f.history, f.durationSeconds, f.segments.map((s: any) => `${s.from[0]}${s.flags}@${s.relSeconds}`).join(' '));
}
