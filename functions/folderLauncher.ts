import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runProtocol } from '../shared/runtime/runProtocol';
import { createLogger, methodsSink } from '../shared/util/log';

/** Polls every folder launcher whose schedule is due; the sender delivers what it stages. */
export async function folderLauncher(_timer: Timer, context: InvocationContext): Promise<void> {
  const logger = createLogger(methodsSink(context), { invocationId: context.invocationId });
  await runProtocol('folder', process.env, logger);
}

app.timer('folderLauncher', {
  schedule: '%FOLDER_SCHEDULE%',
  runOnStartup: false,
  handler: folderLauncher,
});
