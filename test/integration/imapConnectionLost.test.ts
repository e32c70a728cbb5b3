import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../shared/config/load';
import type { LauncherOf } from '../../shared/config/schema';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import { loadLauncherState } from '../../shared/staging/launcherState';
import { silentLogger } from '../../shared/util/log';
import { useAzurite } from '../helpers/azurite';
import { appendMessages, dovecotGate, imapLauncherOn, useDovecot, type RunningDovecot } from '../helpers/dovecot';
import { dovecotRestarter } from '../helpers/dovecotRestart';
import { generateMails } from '../helpers/mailMessages';
import { withDocuments } from '../helpers/refusedDocument';

const { skip } = dovecotGate();

function launcher(d: RunningDovecot): LauncherOf<'imap'> {
  const text = JSON.stringify({
    ezged: { dropFolder: '/unused' },
    launchers: [{
      id: 'lost', ...imapLauncherOn(d), timeoutSeconds: 10,
      failedFolder: 'Rejected', maxFailures: 1, scenarios: [{ waitdir: 'w' }],
    }],
  });
  return parseConfig(text, {}).launchers[0] as LauncherOf<'imap'>;
}

describe('IMAP connection lost in the middle of a run', { skip }, () => {
  const dovecot = useDovecot(skip);
  const azurite = useAzurite();

  test('stops the run without blaming the messages; the next run takes them all', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const mails = generateMails({ count: 6, tag: 'lost', seed: 7 });
    await appendMessages(d, 'INBOX', mails.map((m) => m.raw));
    const restarter = dovecotRestarter(d);
    const l = launcher(d);
    let opened = 0;
    // Dovecot restarts (every session cut) when the third message is about to be read.
    const cutting = withDocuments(async (item, documents) => {
      if (++opened === 3) await restarter.restart();
      return documents(item);
    });
    try {
      const first = await runLauncher(l, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true, openSource: cutting });
      assert.match(first.error ?? '', /IMAP_CONNECTION_LOST/);
      assert.equal(first.failed, 0, 'no message is blamed for the lost connection');
      assert.equal(first.putAside, 0);
      const state = await loadLauncherState(store, 'lost');
      assert.deepEqual((state.source as { failures?: object }).failures ?? {}, {}, 'no failure counted against a message');

      const second = await runLauncher(l, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true });
      assert.equal(second.error, undefined);
      assert.equal(first.acknowledged + second.acknowledged, 6);
      assert.equal(second.putAside, 0);
    } finally {
      await restarter.stop();
    }
  });
});
