/** Process entry: runs the CLI with this process's arguments and sets the exit code. */
import { main } from './main.ts';

/**
 * Exit status when the reader of standard output goes away first (`tcpmortem flows big.pcap |
 * head`): quietly, with 128 + SIGPIPE, as a C tool killed by SIGPIPE ends. Node ignores SIGPIPE
 * and raises EPIPE on the next write instead, which surfaced as "tcpmortem: write EPIPE" (exit 2)
 * or, for an unawaited write, as an unhandled 'error' event with its stack.
 */
export const EXIT_PIPE_CLOSED = 141;

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT_PIPE_CLOSED);
  process.stderr.write(`tcpmortem: standard output: ${err.message}\n`);
  process.exit(2);
});

process.exitCode = await main(process.argv.slice(2));
