import { app } from '@azure/functions';
import { launcherHandler } from './launcherHandler';

/** Polls every O365 (Microsoft Graph) launcher whose schedule is due. */
export const o365Launcher = launcherHandler('o365');

app.timer('o365Launcher', {
  schedule: '%O365_SCHEDULE%',
  runOnStartup: false,
  handler: o365Launcher,
});
