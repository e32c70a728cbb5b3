import { app } from '@azure/functions';
import { launcherHandler } from './launcherHandler';

/** Polls every Adullact (Pastell deposit) launcher whose schedule is due. */
export const adullactLauncher = launcherHandler('adullact');

app.timer('adullactLauncher', {
  schedule: '%ADULLACT_SCHEDULE%',
  runOnStartup: false,
  handler: adullactLauncher,
});
