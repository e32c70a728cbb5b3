import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runProtocol } from '../shared/runtime/runProtocol';
import { createLogger, methodsSink } from '../shared/util/log';

/** Polls every O365 (Microsoft Graph) launcher whose schedule is due; the sender delivers what it stages. */
export async function o365Launcher(_timer: Timer, context: InvocationContext): Promise<void> {
  const logger = createLogger(methodsSink(context), { invocationId: context.invocationId });
  await runProtocol('o365', process.env, logger);
}

app.timer('o365Launcher', {
  schedule: '%O365_SCHEDULE%',
  runOnStartup: false,
  handler: o365Launcher,
});
