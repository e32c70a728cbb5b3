import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runProtocol } from '../shared/runtime/runProtocol';
import { createLogger, methodsSink } from '../shared/util/log';

/** Polls every Adullact (Pastell) launcher whose schedule is due; the sender delivers what it stages. */
export async function adullactLauncher(_timer: Timer, context: InvocationContext): Promise<void> {
  const logger = createLogger(methodsSink(context), { invocationId: context.invocationId });
  await runProtocol('adullact', process.env, logger);
}

app.timer('adullactLauncher', {
  schedule: '%ADULLACT_SCHEDULE%',
  runOnStartup: false,
  handler: adullactLauncher,
});
