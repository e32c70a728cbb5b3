import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runProtocol } from '../shared/runtime/runProtocol';
import { createLogger, methodsSink } from '../shared/util/log';

/** Polls every POP3 launcher whose schedule is due; the sender delivers what it stages. */
export async function pop3Launcher(_timer: Timer, context: InvocationContext): Promise<void> {
  const logger = createLogger(methodsSink(context), { invocationId: context.invocationId });
  await runProtocol('pop3', process.env, logger);
}

app.timer('pop3Launcher', {
  schedule: '%POP3_SCHEDULE%',
  runOnStartup: false,
  handler: pop3Launcher,
});
