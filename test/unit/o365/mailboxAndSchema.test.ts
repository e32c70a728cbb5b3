import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launcherSchema } from '../../../shared/config/schema';
import { mailboxPath, parseMailboxSource } from '../../../shared/sources/o365/mailbox';

test('source: well-known folder, folder path, address:folder for another or shared mailbox', () => {
  assert.deepEqual(parseMailboxSource('inbox'), { folderPath: 'inbox' });
  assert.deepEqual(parseMailboxSource('Inbox/Factures'), { folderPath: 'Inbox/Factures' });
  assert.deepEqual(parseMailboxSource('ged-facture@contoso.fr:inbox'), { address: 'ged-facture@contoso.fr', folderPath: 'inbox' });
  assert.deepEqual(parseMailboxSource('ged-facture@contoso.fr:Inbox/Factures 2026'), { address: 'ged-facture@contoso.fr', folderPath: 'Inbox/Factures 2026' });
  assert.deepEqual(parseMailboxSource('ged-facture@contoso.fr:'), { address: 'ged-facture@contoso.fr', folderPath: 'inbox' });
  assert.equal(mailboxPath(undefined), '/me');
  assert.equal(mailboxPath('ged-facture@contoso.fr'), '/users/ged-facture%40contoso.fr');
});

const base = { id: 'o1', protocol: 'o365', tenantId: 'contoso.fr', clientId: '11111111-2222-3333-4444-555555555555', scenarios: [{ waitdir: 'w' }] };
const problems = (extra: Record<string, unknown>) => {
  const r = launcherSchema.safeParse({ ...base, ...extra });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('schema: delegated by default, global cloud by default', () => {
  const l = launcherSchema.parse(base);
  assert.equal(l.protocol, 'o365');
  if (l.protocol !== 'o365') return;
  assert.equal(l.authMode, 'delegated');
  assert.equal(l.source, 'inbox');
  assert.equal(l.afterSuccess, 'read');
  assert.equal(l.authorityHost, 'https://login.microsoftonline.com');
  assert.equal(l.graphEndpoint, 'https://graph.microsoft.com');
  assert.equal(l.initialSync, 'unread');
});

test('schema: app-only needs one credential and a named mailbox; delegated takes no credential', () => {
  assert.deepEqual(problems({ authMode: 'app-only', clientSecret: 's', source: 'ged@contoso.fr:inbox' }), []);
  assert.match(problems({ authMode: 'app-only', source: 'ged@contoso.fr:inbox' }).join(), /exactly one of "clientSecret" or "certificate"/);
  assert.match(problems({ authMode: 'app-only', clientSecret: 's', source: 'inbox' }).join(), /source: app-only has no signed-in user/);
  assert.match(problems({ authMode: 'app-only', clientSecret: 's', source: 'a@b.fr:inbox', tenantId: 'common' }).join(), /tenantId/);
  assert.match(problems({ clientSecret: 's' }).join(), /delegated access uses a public client/);
  assert.match(problems({ authMode: 'app-only', source: 'a@b.fr:inbox', certificate: { thumbprint: 'xyz', privateKey: 'k' } }).join(), /thumbprint/);
});

test('schema: national clouds over https only; afterSuccess strategies', () => {
  assert.deepEqual(problems({ authorityHost: 'https://login.microsoftonline.us/', graphEndpoint: 'https://graph.microsoft.us' }), []);
  assert.match(problems({ graphEndpoint: 'http://graph.microsoft.us' }).join(), /https/);
  assert.deepEqual(problems({ afterSuccess: 'move:Inbox/Traités' }), []);
  assert.match(problems({ afterSuccess: 'flag' }).join(), /"read", "delete" or "move:<folder>"/);
  assert.match(problems({ unpackAttachedMessages: true }).join(), /not available with o365/);
});
