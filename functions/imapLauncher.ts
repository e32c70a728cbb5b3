import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runProtocol } from '../shared/runtime/runProtocol';
import { createLogger, methodsSink } from '../shared/util/log';

/** Polls every IMAP launcher whose schedule is due; the sender delivers what it stages. */
export async function imapLauncher(_timer: Timer, context: InvocationContext): Promise<void> {
  const logger = createLogger(methodsSink(context), { invocationId: context.invocationId });
  await runProtocol('imap', process.env, logger);
}

app.timer('imapLauncher', {
  schedule: '%IMAP_SCHEDULE%',
  runOnStartup: false,
  handler: imapLauncher,
});
