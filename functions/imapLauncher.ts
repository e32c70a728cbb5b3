import { app } from '@azure/functions';
import { launcherHandler } from './launcherHandler';

/** Polls every IMAP launcher whose schedule is due. */
export const imapLauncher = launcherHandler('imap');

app.timer('imapLauncher', {
  schedule: '%IMAP_SCHEDULE%',
  runOnStartup: false,
  handler: imapLauncher,
});
