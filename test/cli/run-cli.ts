/**
 * Runs the CLI as a user does (a child process through tsx), with TZ and colours pinned.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/analyze-file.ts';

export const CLI_ENTRY = join(REPO_ROOT, 'src', 'cli', 'entry.ts');
export const CLI_ENV = { ...process.env, TZ: 'UTC', FORCE_COLOR: '0' };

export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tcpmortem ARGS` to completion, with `input` on stdin when given. */
export function runCli(args: readonly string[], input?: Uint8Array, cwd: string = REPO_ROOT): CliRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd,
    encoding: 'utf8',
    env: CLI_ENV,
    ...(input !== undefined ? { input } : {}),
    maxBuffer: 1 << 28,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
