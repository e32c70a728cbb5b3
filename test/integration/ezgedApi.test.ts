import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { parseConfig } from '../../shared/config/load';
import type { ColdConfig } from '../../shared/config/schema';
import { deliverAll } from '../../shared/delivery/deliverAll';
import { createEzgedApiTarget } from '../../shared/delivery/ezgedApiTarget';
import { describeError } from '../../shared/errors';
import { md5Hex } from '../../shared/ezged/connection';
import { EzgedError } from '../../shared/ezged/errors';
import { closePooledSessions } from '../../shared/ezged/sessionPool';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import { createTarget } from '../../shared/runtime/createTarget';
import { sendDocument } from '../../shared/runtime/sendDocument';
import type { BlobStore } from '../../shared/staging/blobStore';
import { decodeMetadata } from '../../shared/staging/metadata';
import { createLogger, jsonLineSink } from '../../shared/util/log';
import { useAzurite } from '../helpers/azurite';
import { selfSignedCert, startEzgedDouble, type EzgedDouble, type EzgedDoubleOptions } from '../fakes/ezgedDouble';

const PASSWORD = 'Tr0ub4dor-EzGED-pw';
const TOKEN = 'f00dfeedcafe4d2a9d7e11223344aabb';
const SPOOL = 'C:\\nchp\\var\\spool\\ezged\\instance';
const FAST_RETRY = { tries: 4, firstDelayMs: 20, maxDelayMs: 100 };

const azurite = useAzurite();

interface Harness {
  double: EzgedDouble;
  source: string;
  lines: string[];
  logger: ReturnType<typeof createLogger>;
  store: BlobStore;
  config(ezged?: Record<string, unknown>, settings?: Record<string, string>): ColdConfig;
  done(): Promise<void>;
}

async function harness(opts: EzgedDoubleOptions = {}): Promise<Harness> {
  const double = await startEzgedDouble({ accounts: [{ login: 'cold', password: PASSWORD }], token: TOKEN, waitdirs: ['factures', 'divers'], ...opts });
  const source = await mkdtemp(join(tmpdir(), 'ezged-src-'));
  const lines: string[] = [];
  const logger = createLogger(jsonLineSink((l) => lines.push(l)));
  const store = await azurite.reset();
  return {
    double,
    source,
    lines,
    logger,
    store,
    config: (ezged = {}, settings = {}) =>
      parseConfig(
        JSON.stringify({
          ezged: { url: double.url, login: 'cold', password: '%EZGED_PASSWORD%', uploadToken: '%EZGED_UPLOAD_TOKEN%', allowInsecureHttp: true, timeoutSeconds: 5, maxAttempts: 3, ...ezged },
          launchers: [
            {
              id: '12',
              protocol: 'folder',
              source,
              recursive: true,
              delaySeconds: 0,
              scenarios: [
                { group: 'pdf', job: '87', waitdir: 'factures' },
                { job: '69', waitdir: 'divers' },
              ],
              afterSuccess: 'delete',
            },
          ],
        }),
        { EZGED_PASSWORD: PASSWORD, EZGED_UPLOAD_TOKEN: TOKEN, ...settings },
      ),
    async done() {
      await double.stop();
      await rm(source, { recursive: true, force: true });
    },
  };
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Writes files into the source: relative path → content. */
async function drop(source: string, files: Record<string, Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(source, rel, '..'), { recursive: true });
    await writeFile(join(source, rel), content);
  }
}

async function metadataOf(store: BlobStore, role: 'archive' | 'failed' | 'staging'): Promise<{ name: string; raw: Record<string, string> }[]> {
  const out = [];
  for await (const b of store.list(role)) {
    const props = await store.container(role).getBlobClient(b.name).getProperties();
    out.push({ name: b.name, raw: props.metadata ?? {} });
  }
  return out;
}

test('documents of a folder launcher arrive in the right wait folders, byte-identical, under unique names', async () => {
  const h = await harness();
  try {
    const files = {
      'a/facture.pdf': randomBytes(150_000),
      'b/facture.pdf': randomBytes(90_000),
      'releve été.txt': Buffer.from('relevé de compte\n'),
      'scan.PDF': randomBytes(1),
    };
    await drop(h.source, files);
    const config = h.config();
    const report = await runLauncher(config.launchers[0]!, { store: h.store, settlement: settleWhenStaged(h.store), logger: h.logger, force: true });
    assert.equal(report.staged, 4);

    const target = createTarget(config.ezged, { logger: h.logger, sessionScope: 'target', retry: FAST_RETRY });
    const delivery = await deliverAll(h.store, target, h.logger, { maxAttempts: config.ezged.maxAttempts, concurrency: 3 });
    await target.close();
    assert.deepEqual(delivery, { delivered: 4, retry: 0, deadLettered: 0 });

    const archived = await metadataOf(h.store, 'archive');
    assert.equal(archived.length, 4);
    const byOriginal = new Map<string, ReturnType<typeof decodeMetadata>[]>();
    for (const a of archived) {
      const m = decodeMetadata(a.raw);
      byOriginal.set(m.fileName, [...(byOriginal.get(m.fileName) ?? []), m]);
      assert.equal(m.location, `${SPOOL}\\ocr\\wait\\${m.waitdir}\\${m.deliveredAs}`, 'location is the filePath EzGED answered');
      assert.ok(m.deliveredAt);
      const rec = h.double.file(m.waitdir, m.deliveredAs!);
      assert.ok(rec, `${m.deliveredAs} reached ${m.waitdir}`);
      assert.equal(rec.writes, 1);
      assert.equal(rec.successAnswers, 1);
      assert.equal(rec.sha256, m.sha256, 'the bytes EzGED received are the staged bytes');
      assert.equal(sha(await readFile(h.double.localPath(m.waitdir, m.deliveredAs!))), m.sha256);
    }
    // The right wait folders, and two facture.pdf kept apart.
    const pdfs = byOriginal.get('facture.pdf')!;
    assert.equal(pdfs.length, 2);
    assert.ok(pdfs.every((m) => m.waitdir === 'factures'));
    assert.notEqual(pdfs[0]!.deliveredAs, pdfs[1]!.deliveredAs);
    assert.deepEqual(new Set(pdfs.map((m) => m.sha256)), new Set([sha(files['a/facture.pdf']), sha(files['b/facture.pdf'])]));
    assert.equal(byOriginal.get('releve été.txt')![0]!.waitdir, 'divers');
    assert.equal(byOriginal.get('scan.PDF')![0]!.waitdir, 'factures');

    // One session for the whole run, closed at the end; nothing the double calls a violation.
    assert.equal(h.double.stats.sessionsOpened, 1);
    assert.equal(h.double.stats.logouts, 1);
    assert.equal(h.double.activeSessions(), 0);
    assert.deepEqual(h.double.violations, []);
    // URLs are logged without their query string: no session id, token or password hash.
    const logs = h.lines.join('\n');
    for (const secret of [PASSWORD, md5Hex(PASSWORD), TOKEN, 'sessionid=', 'pwd=']) assert.ok(!logs.includes(secret), `logs contain ${secret}`);
  } finally {
    await h.done();
  }
});

test('bad credentials: one login, no retry loop, every document dead-lettered with a clear reason, no secret anywhere', async () => {
  const h = await harness();
  const wrong = 'Wr0ng-Password-42';
  try {
    await drop(h.source, { 'f1.pdf': randomBytes(1000), 'f2.pdf': randomBytes(2000), 'n.txt': Buffer.from('x'), 'f3.pdf': randomBytes(10) });
    const config = h.config({}, { EZGED_PASSWORD: wrong });
    await runLauncher(config.launchers[0]!, { store: h.store, settlement: settleWhenStaged(h.store), logger: h.logger, force: true });
    const target = createTarget(config.ezged, { logger: h.logger, sessionScope: 'target', retry: FAST_RETRY });
    const errors: string[] = [];
    const report = await deliverAll(h.store, target, h.logger, { maxAttempts: 8, concurrency: 4 });
    // A direct call too, to see the error itself.
    await target.deliver({ name: 'x.pdf', waitdir: 'factures', body: Readable.from([Buffer.from('x')]), size: 1, sha256: sha('x') }).then(
      () => assert.fail('delivered with a wrong password'),
      (err: unknown) => {
        assert.ok(err instanceof EzgedError);
        assert.equal(err.code, 'EZGED_AUTH_FAILED');
        assert.equal(err.transient, false);
        errors.push(describeError(err), String((err as Error).stack));
      },
    );
    await target.close();

    assert.deepEqual(report, { delivered: 0, retry: 0, deadLettered: 4 });
    assert.equal(h.double.stats.loginAttempts, 1, 'a refused login is not repeated');
    assert.equal(h.double.stats.uploadRequests, 0);
    const failed = await metadataOf(h.store, 'failed');
    assert.equal(failed.length, 4);
    for (const f of failed) {
      const m = decodeMetadata(f.raw);
      assert.match(m.reason!, /EzGED refused the login of "cold".*check ezged\.login and ezged\.password/);
      assert.equal(m.attempts, 1);
    }
    const everything = [h.lines.join('\n'), JSON.stringify(failed), ...errors].join('\n');
    for (const secret of [wrong, md5Hex(wrong), TOKEN]) assert.ok(!everything.includes(secret), 'a secret leaked');
    assert.ok(!everything.includes('***'), 'nothing needed redacting: no secret was ever put in a message');
    assert.ok(h.lines.some((l) => JSON.parse(l).level === 'error' && /failed container/.test(l)), 'the failure is logged at error level');
  } finally {
    await h.done();
  }
});

test('HTTPS: an unknown certificate is refused (permanent), trusted with tls.ca', async () => {
  const cert = selfSignedCert();
  const h = await harness({ tls: cert });
  try {
    const config = h.config({ allowInsecureHttp: false });
    const doc = () => ({ name: 'a.pdf', waitdir: 'factures', body: Readable.from([Buffer.from('%PDF-1.4')]), size: 8, sha256: sha('%PDF-1.4') });
    const strict = createEzgedApiTarget(config.ezged, { sessionScope: 'target', retry: FAST_RETRY });
    await assert.rejects(strict.deliver(doc()), (err: EzgedError) => err.code === 'EZGED_TLS' && !err.transient);
    await strict.close();
    assert.equal(h.double.stats.loginAttempts, 0);

    const trusting = createEzgedApiTarget({ ...config.ezged, tls: { rejectUnauthorized: true, ca: cert.cert } }, { sessionScope: 'target', retry: FAST_RETRY });
    const { location } = await trusting.deliver(doc());
    await trusting.close();
    assert.match(location, /factures\\a\.pdf$/);
    assert.equal(h.double.file('factures', 'a.pdf')?.sha256, sha('%PDF-1.4'));
    assert.equal(h.double.stats.logouts, 1);
  } finally {
    await h.done();
  }
});

test('http:// is refused unless allowInsecureHttp', async () => {
  const h = await harness();
  try {
    assert.throws(() => createEzgedApiTarget({ ...h.config().ezged, allowInsecureHttp: false }), (err: EzgedError) => err.code === 'EZGED_CONFIG');
  } finally {
    await h.done();
  }
});

test('process scope: targets of one worker share one session, kept alive or replaced after idle time', async () => {
  const h = await harness({ sessionIdleMs: 2_000 });
  try {
    const ezged = h.config().ezged;
    const send = async (name: string) => {
      const target = createEzgedApiTarget(ezged, { sessionScope: 'process', sessionIdleMs: 2_000, retry: FAST_RETRY });
      try {
        await target.deliver({ name, waitdir: 'divers', body: Readable.from([Buffer.from(name)]), size: name.length, sha256: sha(name) });
      } finally {
        await target.close(); // an invocation ends: the session stays for the next one
      }
    };
    await send('one.txt');
    await send('two.txt');
    assert.equal(h.double.stats.sessionsOpened, 1, 'invocations reuse the session');
    await new Promise((r) => setTimeout(r, 1_300)); // between half and 90 % of the idle time: keep-alive
    await send('three.txt');
    assert.equal(h.double.stats.sessionsOpened, 1);
    assert.ok(h.double.stats.keepalives >= 1);
    await new Promise((r) => setTimeout(r, 2_200)); // past the idle time: a new login, no failed upload
    await send('four.txt');
    assert.equal(h.double.stats.sessionsOpened, 2);
    assert.equal(h.double.stats.unauthorized, 0);
    await closePooledSessions();
    assert.equal(h.double.activeSessions(), 0);
    assert.deepEqual(h.double.violations, []);
  } finally {
    await closePooledSessions();
    await h.done();
  }
});

test('an upload answered HTTP 200 with errorcode 401 (no valid session) is transient: the next attempt logs in again and delivers', async () => {
  const h = await harness({ uploadSessionLoss: 'errorcode' });
  const target = createEzgedApiTarget(h.config().ezged, { sessionScope: 'target', retry: FAST_RETRY });
  const doc = (name: string) => ({ name, waitdir: 'divers', body: Readable.from([Buffer.from(name)]), size: name.length, sha256: sha(name) });
  try {
    await target.deliver(doc('one.txt'));
    h.double.expireSessions();
    const err = await target.deliver(doc('two.txt')).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof EzgedError, String(err));
    assert.deepEqual([err.code, err.transient], ['EZGED_SESSION_EXPIRED', true]);
    await target.deliver(doc('two.txt'));
    assert.equal(h.double.file('divers', 'two.txt')?.successAnswers, 1);
    assert.equal(h.double.stats.sessionsOpened, 2);
    assert.deepEqual(h.double.violations, []);
  } finally {
    await target.close();
    await h.done();
  }
});

test('a long upload keeps its session alive (EzGED checks the session once the body is received)', async () => {
  const h = await harness({ sessionIdleMs: 1_000 });
  try {
    const target = createEzgedApiTarget(h.config().ezged, { sessionScope: 'target', sessionIdleMs: 1_000, retry: FAST_RETRY });
    const chunks = Array.from({ length: 12 }, (_, i) => Buffer.alloc(1000, i));
    const slow = Readable.from(
      (async function* () {
        for (const c of chunks) {
          await new Promise((r) => setTimeout(r, 250));
          yield c;
        }
      })(),
    );
    await target.deliver({ name: 'slow.bin', waitdir: 'divers', body: slow, size: 12_000, sha256: sha(Buffer.concat(chunks)) });
    await target.close();
    assert.equal(h.double.file('divers', 'slow.bin')?.successAnswers, 1);
    assert.equal(h.double.stats.sessionsOpened, 1);
    assert.equal(h.double.stats.unauthorized, 0);
    assert.ok(h.double.stats.keepalives >= 1);
  } finally {
    await h.done();
  }
});

test('unsafe names and wait folders are refused before any request; a missing wait folder is a permanent refusal', async () => {
  const h = await harness();
  try {
    const target = createEzgedApiTarget(h.config().ezged, { sessionScope: 'target', retry: FAST_RETRY });
    const doc = (name: string, waitdir: string) => ({ name, waitdir, body: Readable.from([Buffer.from('x')]), size: 1, sha256: sha('x') });
    for (const [name, waitdir, code] of [
      ['../evil.pdf', 'factures', 'UNSAFE_NAME'],
      ['a\\b.pdf', 'factures', 'UNSAFE_NAME'],
      ['C:x.pdf', 'factures', 'UNSAFE_NAME'],
      ['ok.pdf', '..', 'UNSAFE_WAITDIR'],
      ['ok.pdf', 'a/b', 'UNSAFE_WAITDIR'],
    ] as const) {
      await assert.rejects(target.deliver(doc(name, waitdir)), (err: EzgedError) => err.code === code && !err.transient);
    }
    assert.equal(h.double.requests.length, 0);
    await assert.rejects(target.deliver(doc('ok.pdf', 'nowhere')), (err: EzgedError) => err.code === 'EZGED_UPLOAD_REFUSED' && !err.transient && /nowhere does not exist/.test(err.message));
    await target.close();
    assert.deepEqual(h.double.violations, []);
  } finally {
    await h.done();
  }
});

test('check: the probe logs in and out, and says wait folders cannot be checked', async () => {
  const h = await harness();
  try {
    const target = createTarget(h.config().ezged, { logger: h.logger, sessionScope: 'target', retry: FAST_RETRY });
    assert.match(target.description, /^EzGED API http:\/\/127\.0\.0\.1:\d+\/ezged3\/data\/ as "cold" \(wait folders cannot be checked without uploading\)$/);
    await target.probe(['factures', 'divers', 'factures']);
    assert.equal(h.double.stats.sessionsOpened, 1);
    assert.equal(h.double.stats.logouts, 1);
    assert.ok(h.lines.some((l) => /cannot be checked through the API without uploading/.test(l)));
    await assert.rejects(target.probe(['../x']), (err: EzgedError) => err.code === 'UNSAFE_WAITDIR');
    await target.close();

    const bad = createTarget(h.config({}, { EZGED_PASSWORD: 'nope-nope' }).ezged, { sessionScope: 'target', retry: FAST_RETRY });
    await assert.rejects(bad.probe(['factures']), (err: EzgedError) => err.code === 'EZGED_AUTH_FAILED');
    await bad.close();
  } finally {
    await h.done();
  }
});

test('the blob-triggered sender: invocations of one worker share one session; a transient failure is recorded for a later attempt', async () => {
  const h = await harness();
  const before = process.env.FUNCTIONS_WORKER_RUNTIME;
  process.env.FUNCTIONS_WORKER_RUNTIME = 'node';
  try {
    await drop(h.source, { 'a.pdf': randomBytes(3000), 'b.pdf': randomBytes(4000), 'c.txt': Buffer.from('c') });
    const config = h.config();
    await runLauncher(config.launchers[0]!, { store: h.store, settlement: settleWhenStaged(h.store), logger: h.logger, force: true });
    const configPath = join(h.source, '..', `launchers-${randomBytes(4).toString('hex')}.json`);
    await writeFile(
      configPath,
      JSON.stringify({
        ezged: { url: h.double.url, login: 'cold', password: '%EZGED_PASSWORD%', uploadToken: '%EZGED_UPLOAD_TOKEN%', allowInsecureHttp: true, maxAttempts: 3 },
        launchers: [],
      }),
    );
    const settings = { AzureWebJobsStorage: azurite.get().connectionString, LAUNCHERS_CONFIG: configPath, EZGED_PASSWORD: PASSWORD, EZGED_UPLOAD_TOKEN: TOKEN };
    const names: string[] = [];
    for await (const b of h.store.list('staging')) names.push(b.name);
    assert.equal(names.length, 3);

    h.double.inject({ kind: 'status', on: 'upload', status: 503 });
    const first = await sendDocument(names[0]!, settings, h.logger);
    assert.equal(first.status, 'retry');
    const retried = decodeMetadata((await h.store.container('staging').getBlobClient(names[0]!).getProperties()).metadata);
    assert.equal(retried.attempts, 1);
    assert.match(retried.lastError!, /EZGED_SERVER_ERROR: .*HTTP 503/);

    for (const name of names) assert.equal((await sendDocument(name, settings, h.logger)).status, 'delivered');
    assert.equal(h.double.stats.sessionsOpened, 1, 'one login for four invocations');
    assert.equal(h.double.stats.logouts, 0, 'the session outlives each invocation');
    await closePooledSessions();
    assert.equal(h.double.stats.logouts, 1);
    await rm(configPath, { force: true });
  } finally {
    if (before === undefined) delete process.env.FUNCTIONS_WORKER_RUNTIME;
    else process.env.FUNCTIONS_WORKER_RUNTIME = before;
    await closePooledSessions();
    await h.done();
  }
});

test('EzGED down: a short retry burst for the login, then the other documents fail fast and wait, without using up their attempts', async () => {
  const h = await harness();
  try {
    await drop(h.source, Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`d${i}.pdf`, randomBytes(100)])));
    const config = h.config();
    await runLauncher(config.launchers[0]!, { store: h.store, settlement: settleWhenStaged(h.store), logger: h.logger, force: true });
    h.double.inject({ kind: 'status', on: 'login', status: 503, times: 1000 });
    const target = createTarget(config.ezged, { logger: h.logger, sessionScope: 'target', retry: FAST_RETRY });
    const report = await deliverAll(h.store, target, h.logger, { maxAttempts: 5, concurrency: 2 });
    assert.deepEqual(report, { delivered: 0, retry: 6, deadLettered: 0 });
    assert.equal(h.double.stats.loginAttempts, FAST_RETRY.tries, 'one burst of short retries, not one per document');
    for await (const b of h.store.list('staging')) {
      const m = decodeMetadata((await h.store.container('staging').getBlobClient(b.name).getProperties()).metadata);
      assert.equal(m.attempts, 0, 'an outage of EzGED is not the document\'s fault');
      assert.match(m.lastError!, /EZGED_SERVER_ERROR: logging in to EzGED as "cold": EzGED answered HTTP 503/);
      assert.ok(m.nextAttemptAt);
    }
    await target.close();
    h.double.clearFaults();
  } finally {
    await h.done();
  }
});
