import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../shared/config/load';
import { ConfigError } from '../../../shared/errors';
import { redact } from '../../../shared/util/secrets';

const folder = (over: Record<string, unknown> = {}) => ({
  id: '12',
  protocol: 'folder',
  source: '/mnt/scans',
  scenarios: [{ group: 'pdf', job: '87', waitdir: 'facturesfournisseurs' }, { job: '69', waitdir: 'documentsclients' }],
  ...over,
});
const config = (launchers: unknown[], ezged: unknown = { dropFolder: '/mnt/ezged/ocr/wait' }) => JSON.stringify({ ezged, launchers });

function problemsOf(text: string, settings: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, settings);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected a ConfigError');
}

test('the example of the issue is valid and gets its defaults', () => {
  const c = parseConfig(config([folder({ delaySeconds: 30, filenameFilter: '/(?!debut_nom_fichier).*\\..*/', schedule: ['* * * * * * */15'], afterSuccess: 'delete', description: 'Factures scannées' })]), {});
  const l = c.launchers[0]!;
  assert.equal(l.protocol, 'folder');
  assert.equal(l.id, '12');
  assert.equal(l.delaySeconds, 30);
  assert.equal(c.timezone, 'Europe/Paris');
});

test('every problem is listed as launchers[<id>].<field>: <why>', () => {
  const problems = problemsOf(
    config([
      folder({ filenameFilter: '/(x/', schedule: ['* * * * * 75 *'], afterSuccess: 'shred', extra: true }),
      folder({ id: '13', protocol: 'ftp' }),
      folder({ id: '14', scenarios: [{ group: 'pdf', waitdir: '../etc', job: 1, color: 'red' }, { group: 'PDF', waitdir: 'x' }, { waitdir: 'a' }, { waitdir: 'b' }] }),
      folder({ id: '12' }),
    ]),
  );
  const expected = [
    /^launchers\[12\]\.filenameFilter: invalid regular expression/,
    /^launchers\[12\]\.schedule\[0\]: minutes "75" is out of range/,
    /^launchers\[12\]\.afterSuccess: must be "delete" or "move:<folder>"/,
    /^launchers\[12\]\.extra: unknown field/,
    /^launchers\[13\]\.protocol: protocol must be one of folder, imap, pop3, o365, adullact/,
    /^launchers\[14\]\.scenarios\[0\]\.waitdir: waitdir contains a path separator/,
    /^launchers\[14\]\.scenarios\[0\]\.color: unknown field/,
    /^launchers\[14\]\.scenarios\[1\]\.group: group "PDF" is already used by scenarios\[0\]/,
    /^launchers\[14\]\.scenarios\[3\]: more than one default scenario/,
    /^launchers\[12\]\.id: duplicate id/,
  ];
  for (const re of expected) assert.ok(problems.some((p) => re.test(p)), `missing ${re} in\n${problems.join('\n')}`);
});

test('a missing setting names the setting, never a value, and is said once', () => {
  const problems = problemsOf(config([{ id: 'mail', protocol: 'imap', server: 'imap.gmail.com', user: 'ged@example.fr', password: '%IMAP_PASSWORD%', scenarios: [{ waitdir: 'w' }] }]));
  assert.deepEqual(problems, ['launchers[mail].password: setting IMAP_PASSWORD is not set (app setting or environment variable)']);
});

test('resolved secrets are redacted from any later text', () => {
  const c = parseConfig(config([{ id: 'm', protocol: 'imap', server: 's', user: 'u', password: '%PW%', scenarios: [{ waitdir: 'w' }] }]), { PW: 'hunter2-very-secret' });
  const l = c.launchers[0]!;
  assert.equal('password' in l && l.password, 'hunter2-very-secret');
  assert.equal(redact('login failed for u with hunter2-very-secret'), 'login failed for u with ***');
});

test('mail security defaults from the port; none needs allowInsecure', () => {
  const mk = (o: Record<string, unknown>) => ({ id: 'm', protocol: 'imap', server: 's', user: 'u', password: 'p', scenarios: [{ waitdir: 'w' }], ...o });
  const c = parseConfig(config([mk({}), { ...mk({ id: 'n', port: 143 }) }, { ...mk({ id: 'p', protocol: 'pop3', source: undefined }) }]), {});
  const pick = (i: number) => c.launchers[i] as { port: number; security: string };
  assert.deepEqual([pick(0).port, pick(0).security], [993, 'tls']);
  assert.deepEqual([pick(1).port, pick(1).security], [143, 'starttls']);
  assert.deepEqual([pick(2).port, pick(2).security], [995, 'tls']);
  assert.deepEqual(problemsOf(config([mk({ security: 'none' })])), ['launchers[m].security: "none" sends the password in clear: set "allowInsecure": true to accept it']);
});

test('POP3 refuses a folder, saying why', () => {
  const problems = problemsOf(config([{ id: 'p', protocol: 'pop3', server: 's', user: 'u', password: 'p', source: 'INBOX', scenarios: [{ waitdir: 'w' }] }]));
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^launchers\[p\]\.source: POP3 has a single mailbox/);
});

test('ezged needs exactly one of url or dropFolder; http needs an explicit opt-in', () => {
  assert.match(problemsOf(config([folder()], {}))[0]!, /^ezged: give exactly one of "url"/);
  const http = problemsOf(config([folder()], { url: 'http://ged.example.fr/ezged3', login: 'cold', password: 'x' }));
  assert.deepEqual(http, ['ezged.url: http:// sends the password hash in clear: use https:// or set "allowInsecureHttp": true']);
});

test('invalid JSON is a config error with the parser message', () => {
  assert.match(problemsOf('{ "ezged": ')[0]!, /^\(file\): not valid JSON/);
});

test('an unresolved Key Vault reference is an error, never used as a password', () => {
  const text = config([{ id: 'm', protocol: 'imap', server: 's', user: 'u', password: '%PW%', scenarios: [{ waitdir: 'w' }] }]);
  const problems = problemsOf(text, { PW: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/PW/)' });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^launchers\[m\]\.password: setting PW is a Key Vault reference that Azure could not resolve/);
});

test('an unknown time zone and a schedule row that matches no date are refused, naming them', () => {
  const problems = problemsOf(JSON.stringify({ timezone: 'Europe/Pari', ezged: { dropFolder: '/mnt/w' }, launchers: [folder({ schedule: ['* * * * 8 0 0', '2020 * * * * * 0', '* 2 * 30 * * 0'] })] }));
  assert.deepEqual(problems, [
    'timezone: unknown time zone "Europe/Pari" (an IANA name such as "Europe/Paris")',
    'launchers[12].schedule[2]: never fires: "* 2 * 30 * * 0" matches no date',
  ], 'a row whose year is past stays valid (the definitions must not expire): check warns about it');
});
