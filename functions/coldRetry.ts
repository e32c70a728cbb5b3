import { app, type InvocationContext, type Timer } from '@azure/functions';
import { sendPending } from '../shared/runtime/sendPending';
import { createLogger, methodsSink } from '../shared/util/log';

/** Delivers documents left in staging: failed attempts whose backoff is over, missed events. */
export async function coldRetry(_timer: Timer, context: InvocationContext): Promise<void> {
  const logger = createLogger(methodsSink(context), { invocationId: context.invocationId });
  await sendPending(process.env, logger);
}

app.timer('coldRetry', {
  schedule: '%RETRY_SCHEDULE%',
  runOnStartup: false,
  handler: coldRetry,
});
