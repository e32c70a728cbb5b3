import { app } from '@azure/functions';
import { launcherHandler } from './launcherHandler';

/** Polls every POP3 launcher whose schedule is due. */
export const pop3Launcher = launcherHandler('pop3');

app.timer('pop3Launcher', {
  schedule: '%POP3_SCHEDULE%',
  runOnStartup: false,
  handler: pop3Launcher,
});
