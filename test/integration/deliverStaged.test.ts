import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { deliverAll } from '../../shared/delivery/deliverAll';
import { deliverStaged } from '../../shared/delivery/deliverStaged';
import type { Delivery, DeliveryTarget } from '../../shared/delivery/target';
import { DeliveryError } from '../../shared/errors';
import { decodeMetadata, encodeMetadata } from '../../shared/staging/metadata';
import { createLogger, jsonLineSink, silentLogger } from '../../shared/util/log';
import { useAzurite } from '../helpers/azurite';

const azurite = useAzurite();

/** A target that records what it received (and can fail on demand). */
function countingTarget(fail?: () => Error | undefined): DeliveryTarget & { received: string[] } {
  const received: string[] = [];
  return {
    received,
    description: 'counting target',
    async deliver(doc: Delivery) {
      for await (const _ of doc.body) void _;
      const err = fail?.();
      if (err) throw err;
      received.push(doc.name);
      return { location: `/wait/${doc.waitdir}/${doc.name}` };
    },
    probe: async () => undefined,
    close: async () => undefined,
  };
}

async function stage(name: string): Promise<void> {
  const store = azurite.store();
  await store.putIfAbsent('staging', name, Readable.from([Buffer.from('PDF')]), (size, sha256) =>
    encodeMetadata({ launcherId: '12', sourceKey: 'k', fileName: 'facture.pdf', waitdir: 'factures', sha256, size, stagedAt: 'now', attempts: 0 }),
  );
}

test('a run stopped between EzGED\'s answer and the archive move does not deliver again', async () => {
  const store = await azurite.reset();
  await stage('12/x/facture.pdf');
  const target = countingTarget();
  // The archive move fails (storage unreachable, or the process stops right there).
  const brokenMove = Object.assign(Object.create(store), { move: async () => { throw new Error('storage unreachable'); } });
  await assert.rejects(deliverStaged(brokenMove, target, '12/x/facture.pdf', silentLogger, { maxAttempts: 3 }), /storage unreachable/);
  assert.equal(target.received.length, 1);
  const marked = decodeMetadata((await store.container('staging').getBlobClient('12/x/facture.pdf').getProperties()).metadata);
  assert.ok(marked.deliveredAt, 'the staged blob is marked delivered before the move');

  const again = await deliverStaged(store, target, '12/x/facture.pdf', silentLogger, { maxAttempts: 3 });
  assert.equal(again.status, 'already-delivered');
  assert.equal(target.received.length, 1, 'not delivered a second time');
  assert.equal(await store.locate('12/x/facture.pdf'), 'archive');
});

test('transient failures count attempts and back off; the last one dead-letters with the reason', async () => {
  const store = await azurite.reset();
  await stage('12/y/facture.pdf');
  const target = countingTarget(() => new DeliveryError('EZGED_SERVER_ERROR', 'EzGED answered HTTP 503', true));
  const first = await deliverStaged(store, target, '12/y/facture.pdf', silentLogger, { maxAttempts: 2 });
  assert.equal(first.status, 'retry');
  const meta = decodeMetadata((await store.container('staging').getBlobClient('12/y/facture.pdf').getProperties()).metadata);
  assert.equal(meta.attempts, 1);
  assert.ok(Date.parse(meta.nextAttemptAt!) > Date.now());
  const deferred = await deliverStaged(store, target, '12/y/facture.pdf', silentLogger, { maxAttempts: 2, respectBackoff: true });
  assert.equal(deferred.status, 'deferred');
  const last = await deliverStaged(store, target, '12/y/facture.pdf', silentLogger, { maxAttempts: 2 });
  assert.equal(last.status, 'dead-lettered');
  const failed = decodeMetadata((await store.container('failed').getBlobClient('12/y/facture.pdf').getProperties()).metadata);
  assert.match(failed.reason!, /gave up after 2 attempts: EZGED_SERVER_ERROR: EzGED answered HTTP 503/);
});

test('EzGED down (targetDown) waits without using up the document\'s attempts', async () => {
  const store = await azurite.reset();
  await stage('12/z/facture.pdf');
  const target = countingTarget(() => new DeliveryError('EZGED_UNREACHABLE', 'connection refused', true, { targetDown: true }));
  for (let i = 0; i < 3; i++) assert.equal((await deliverStaged(store, target, '12/z/facture.pdf', silentLogger, { maxAttempts: 2 })).status, 'retry');
  const meta = decodeMetadata((await store.container('staging').getBlobClient('12/z/facture.pdf').getProperties()).metadata);
  assert.equal(meta.attempts, 0);
  assert.equal(await store.locate('12/z/facture.pdf'), 'staging');
});

/** A target whose uploads wait until `open()` is called (two deliveries overlap for sure). */
function gatedTarget(): DeliveryTarget & { received: string[]; open(): void } {
  const received: string[] = [];
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return {
    received,
    open,
    description: 'gated target',
    async deliver(doc: Delivery) {
      for await (const _ of doc.body) void _;
      await gate;
      received.push(doc.name);
      return { location: `/wait/${doc.waitdir}/${doc.name}` };
    },
    probe: async () => undefined,
    close: async () => undefined,
  };
}

test('claimed deliveries: the blob trigger and a sweep (or a redelivered event) at the same time send the document once', async () => {
  const store = await azurite.reset();
  await stage('12/c/facture.pdf');
  const target = gatedTarget();
  const first = deliverStaged(store, target, '12/c/facture.pdf', silentLogger, { maxAttempts: 3, claim: true });
  // Once the first one holds its lease (it is then uploading, held at the gate)...
  const blob = store.container('staging').getBlobClient('12/c/facture.pdf');
  for (let i = 0; i < 200 && (await blob.getProperties()).leaseState !== 'leased'; i++) await new Promise((r) => setTimeout(r, 10));
  const other = countingTarget();
  const during = await deliverStaged(store, other, '12/c/facture.pdf', silentLogger, { maxAttempts: 3, claim: true });
  assert.equal(during.status, 'busy', '...a second deliverer leaves the document alone');
  assert.deepEqual(other.received, []);
  target.open();
  assert.equal((await first).status, 'delivered');
  assert.equal((await deliverStaged(store, target, '12/c/facture.pdf', silentLogger, { maxAttempts: 3, claim: true })).status, 'gone');
  assert.deepEqual(target.received.length, 1);
  assert.equal(await store.locate('12/c/facture.pdf'), 'archive');
});

test('claimed deliveries: a failed attempt is recorded under the lease and gives the document back', async () => {
  const store = await azurite.reset();
  await stage('12/d/facture.pdf');
  const failing = countingTarget(() => new DeliveryError('EZGED_SERVER_ERROR', 'EzGED answered HTTP 503', true));
  const first = await deliverStaged(store, failing, '12/d/facture.pdf', silentLogger, { maxAttempts: 2, claim: true });
  assert.equal(first.status, 'retry');
  const blob = store.container('staging').getBlobClient('12/d/facture.pdf');
  const props = await blob.getProperties();
  assert.equal(decodeMetadata(props.metadata).attempts, 1, 'the attempt is written although the blob was leased');
  assert.equal(props.leaseState, 'available', 'the lease is released after a failed attempt');
  // The last attempt dead-letters: the move deletes the leased blob with its lease.
  const last = await deliverStaged(store, failing, '12/d/facture.pdf', silentLogger, { maxAttempts: 2, claim: true });
  assert.equal(last.status, 'dead-lettered');
  assert.equal(await store.locate('12/d/facture.pdf'), 'failed');
});

test('a sweep leaves documents whose next attempt is later without a request for them', async () => {
  const store = await azurite.reset();
  await stage('12/e/due.pdf');
  await stage('12/e/waiting.pdf');
  const later = new Date(Date.now() + 10 * 60_000).toISOString();
  const waiting = store.container('staging').getBlobClient('12/e/waiting.pdf');
  await waiting.setMetadata({ ...(await waiting.getProperties()).metadata, ...encodeMetadata({ ...decodeMetadata((await waiting.getProperties()).metadata), attempts: 1, nextAttemptAt: later }) });
  // Counts the blobs the sweep touches one by one.
  const touched: string[] = [];
  const staging = store.container('staging');
  const spy = Object.assign(Object.create(store), {
    container: (role: string) =>
      role === 'staging' ? Object.assign(Object.create(staging), { getBlobClient: (n: string) => (touched.push(n), staging.getBlobClient(n)) }) : store.container(role as 'archive'),
  });
  const target = countingTarget();
  const report = await deliverAll(spy, target, silentLogger, { maxAttempts: 3, respectBackoff: true, claim: true });
  assert.deepEqual(report, { delivered: 1, retry: 0, deadLettered: 0 });
  assert.deepEqual([...new Set(touched)], ['12/e/due.pdf']);
  assert.equal(await store.locate('12/e/waiting.pdf'), 'staging');
});

test('claimed deliveries: a delivery that loses its lease mid-upload stops; the next one delivers the document once', async () => {
  const store = await azurite.reset();
  await stage('12/f/facture.pdf');
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const received: string[] = [];
  const slow: DeliveryTarget = {
    description: 'slow target',
    async deliver(doc: Delivery) {
      await gate;
      for await (const _ of doc.body) void _;
      received.push(doc.name);
      return { location: `/wait/${doc.waitdir}/${doc.name}` };
    },
    probe: async () => undefined,
    close: async () => undefined,
  };
  // The delivery says when a renewal finds its lease gone.
  let leaseLost!: () => void;
  const lost = new Promise<void>((r) => (leaseLost = r));
  const logger = createLogger(jsonLineSink((line) => /lost the lease/.test(line) && leaseLost()));
  const first = deliverStaged(store, slow, '12/f/facture.pdf', logger, { maxAttempts: 3, claim: true, claimOptions: { renewMs: 30 } });
  const blob = store.container('staging').getBlobClient('12/f/facture.pdf');
  for (let i = 0; i < 200 && (await blob.getProperties()).leaseState !== 'leased'; i++) await new Promise((r) => setTimeout(r, 10));
  // Someone breaks the lease (an operator, or storage unreachable until it lapsed).
  await blob.getBlobLeaseClient().breakLease(0);
  await Promise.race([lost, new Promise((r) => setTimeout(r, 10_000).unref())]); // a renewal fails meanwhile
  open();
  assert.equal((await first).status, 'busy', 'the upload was stopped, not finished');
  assert.deepEqual(received, []);
  const next = await deliverStaged(store, countingTarget(), '12/f/facture.pdf', silentLogger, { maxAttempts: 3, claim: true });
  assert.equal(next.status, 'delivered');
  assert.equal(await store.locate('12/f/facture.pdf'), 'archive');
});
