import type { InvocationContext, Timer } from '@azure/functions';
import type { Protocol } from '../shared/config/schema';
import { runProtocol } from '../shared/runtime/runProtocol';
import { createLogger, methodsSink } from '../shared/util/log';

/**
 * The handler of a launcher type's timer: every launcher of that protocol whose schedule
 * is due runs once; the blob-triggered sender delivers what it stages.
 */
export function launcherHandler(protocol: Protocol): (timer: Timer, context: InvocationContext) => Promise<void> {
  return async (_timer, context) => {
    const logger = createLogger(methodsSink(context), { invocationId: context.invocationId });
    await runProtocol(protocol, process.env, logger);
  };
}
