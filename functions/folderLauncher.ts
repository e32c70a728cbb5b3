import { app } from '@azure/functions';
import { launcherHandler } from './launcherHandler';

/** Polls every folder launcher (local disk, SMB, Azure Files) whose schedule is due. */
export const folderLauncher = launcherHandler('folder');

app.timer('folderLauncher', {
  schedule: '%FOLDER_SCHEDULE%',
  runOnStartup: false,
  handler: folderLauncher,
});
