import type { Settings } from '../../config/settings';
import { ColdError } from '../../errors';
import { linkWithDeviceCode } from '../../sources/o365/deviceCodeLink';
import type { Logger } from '../../util/log';
import { openSession } from '../session';

/**
 * `cold-launcher o365 link ID`: links a delegated O365 launcher to its mailbox with the
 * device code flow (print the code and the link, wait for the sign-in), then stores the
 * launcher's token cache, encrypted, where the functions read it.
 */
export async function o365LinkCommand(id: string, flags: { config?: string }, settings: Settings, logger: Logger, out: (line: string) => void): Promise<number> {
  const session = await openSession({ config: flags.config }, settings, logger);
  try {
    const launcher = session.config.launchers.find((l) => l.id === id);
    if (!launcher) throw new ColdError('UNKNOWN_LAUNCHER', `no launcher with id "${id}" (ids: ${session.config.launchers.map((l) => l.id).join(', ')})`);
    if (launcher.protocol !== 'o365') throw new ColdError('USAGE', `launcher ${id} is a ${launcher.protocol} launcher: "o365 link" is for o365 launchers`);
    if (session.embedded) {
      logger.warn(
        'AzureWebJobsStorage is not set: the link is stored in the embedded storage of this machine (./.cold-launcher). ' +
          "To link a launcher that runs in Azure, set AzureWebJobsStorage__accountName to the function app's storage account and sign in with az login first " +
          '(the account refuses shared keys: a connection string does not work).',
      );
    }
    const { username } = await linkWithDeviceCode(launcher, {
      store: session.store,
      settings,
      logger,
      prompt: (p) => {
        out(p.message || `To sign in, open ${p.verificationUri} and enter the code ${p.userCode}`);
        out(`Waiting for the sign-in (the code is valid ${Math.max(1, Math.round(p.expiresInSeconds / 60))} min)...`);
      },
    });
    out(`Launcher ${id} is linked to ${username}. The functions now refresh its tokens by themselves.`);
    return 0;
  } finally {
    await session.close();
  }
}
