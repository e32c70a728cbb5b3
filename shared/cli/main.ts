import { parseArgs } from 'node:util';
import { ColdError, ConfigError } from '../errors';
import { createLogger, jsonLineSink, type Logger } from '../util/log';
import { redact } from '../util/secrets';
import { checkCommand } from './commands/check';
import { previewCommand } from './commands/preview';
import { retryCommand } from './commands/retry';
import { runCommand } from './commands/run';
import { schemaCommand } from './commands/schema';
import { statusCommand } from './commands/status';
import { terminalSink } from './output';

const USAGE = `Usage: cold-launcher <command> [options]

Commands:
  run [--once] [--launcher ID]   poll the sources, stage, deliver (until Ctrl-C, or once)
  check                          validate the definitions, try each source and the EzGED target
  preview ID                     what launcher ID would take now, touching nothing
  retry ID | --all               put dead letters (a blob name, or a launcher's) back into staging
  o365 link ID                   link O365 launcher ID to its mailbox (device code sign-in)
  status                         per launcher: last run, in flight, staged, delivered, dead letters
  schema                         print the JSON Schema of launchers.json (for editors: "$schema")

Options:
  --config FILE   launcher definitions (default: ./launchers.json, else the bundled demo)
  --json          log one JSON object per line instead of human lines
  --verbose       also show debug lines (files waiting, acknowledgements)

Exit status: 0 all went well, 1 a document failed or was put aside, 2 bad definitions or usage.
Storage: AzureWebJobsStorage (connection string); unset = an embedded Azurite in ./.cold-launcher.`;

type Command = (positionals: string[], values: Flags, logger: Logger, out: (line: string) => void) => Promise<number>;
interface Flags {
  config?: string;
  once?: boolean;
  launcher?: string;
  all?: boolean;
}

/** One entry per command, as imapflow dispatches its commands through a map. */
const COMMANDS = new Map<string, Command>([
  ['run', (_p, v, log, out) => runCommand({ config: v.config, once: !!v.once, launcher: v.launcher }, process.env, log, out)],
  ['check', (_p, v, log, out) => checkCommand({ config: v.config }, process.env, log, out)],
  ['preview', (p, v, log, out) => {
    if (!p[0]) throw new ColdError('USAGE', 'preview needs a launcher id: cold-launcher preview ID');
    return previewCommand(p[0], { config: v.config }, process.env, log, out);
  }],
  ['retry', (p, v, log, out) => retryCommand(p[0], { config: v.config, all: !!v.all }, process.env, log, out)],
  ['status', (_p, v, log, out) => statusCommand({ config: v.config }, process.env, log, out)],
  ['schema', (_p, _v, _log, out) => schemaCommand(out)],
  ['o365', async (p, v, log, out) => {
    if (p[0] !== 'link' || !p[1]) throw new ColdError('USAGE', 'usage: cold-launcher o365 link ID');
    return (await import('./commands/o365Link.js')).o365LinkCommand(p[1], { config: v.config }, process.env, log, out);
  }],
]);

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        once: { type: 'boolean' },
        launcher: { type: 'string', short: 'l' },
        all: { type: 'boolean' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const [name, ...rest] = parsed.positionals;
  const command = name ? COMMANDS.get(name) : undefined;
  if (parsed.values.help || !command) {
    (command || parsed.values.help ? process.stdout : process.stderr).write(USAGE + '\n');
    return parsed.values.help ? 0 : 2;
  }
  const sink = parsed.values.json
    ? jsonLineSink((l) => process.stderr.write(l + '\n'))
    : terminalSink({ verbose: !!parsed.values.verbose, color: !!process.stderr.isTTY });
  const logger = createLogger(sink);
  const out = (line: string) => process.stdout.write(line + '\n');
  try {
    return await command(rest, parsed.values, logger, out);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(redact(err.message) + '\n');
      return 2;
    }
    if (err instanceof ColdError && err.code === 'USAGE') {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    const e = err as Error;
    process.stderr.write(redact(`cold-launcher: ${err instanceof ColdError ? err.code + ': ' : ''}${e.message ?? String(err)}`) + '\n');
    if (parsed.values.verbose && e.stack) process.stderr.write(redact(e.stack) + '\n');
    return err instanceof ColdError && err.code === 'UNKNOWN_LAUNCHER' ? 2 : 1;
  }
}
