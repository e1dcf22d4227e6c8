/** Shared ending of the yargs command lines: strict options, one-line errors with exit code 2, --help. */
import type { Argv } from 'yargs';

export async function runCli(y: Argv): Promise<void> {
  await y
    .strict()
    .fail((msg, err) => {
      console.error(`error: ${err?.message ?? msg}`);
      process.exit(2);
    })
    .help()
    .parseAsync();
}
