// The small-message path of the IMAP source against a scripted client (no server needed):
// what is asked in which FETCH, what a failure does, how acknowledgements are grouped, and
// how the documents of large messages share their slots.
// Dovecot-backed cases are in imap.test.ts.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import type { ImapFlow } from 'imapflow';
import { AckBatcher } from '../../../shared/sources/imap/ackBatch';
import { openWithSlot } from '../../../shared/sources/imap/streamedDownload';
import { Semaphore } from '../../../shared/util/concurrency';
import { PREFETCH_WINDOW_BYTES, WHOLE_FETCH_MAX_BYTES, WholeMessageFetcher, type WholeFetchItem } from '../../../shared/sources/imap/wholeFetch';

/** Answers UID FETCH from a map of messages; records every range asked; can fail on demand. */
class ScriptedClient {
  readonly asked: string[] = [];
  usable = true;
  failWhen: (range: string) => Error | undefined = () => undefined;

  constructor(private readonly messages: Map<number, Buffer>) {}

  async *fetch(range: string): AsyncGenerator<{ uid: number; source: Buffer }> {
    this.asked.push(range);
    await new Promise((r) => setImmediate(r));
    const err = this.failWhen(range);
    if (err) throw err;
    for (const uid of range.split(',').map(Number)) {
      const source = this.messages.get(uid);
      if (source) yield { uid, source };
    }
  }
}

const items = (sizes: number[]): WholeFetchItem[] => sizes.map((size, i) => ({ uid: i + 1, size }));
const contents = (list: WholeFetchItem[]) => new Map(list.map((i) => [i.uid, Buffer.from(`message ${i.uid}`)]));

function fetcherFor(list: WholeFetchItem[], messages = contents(list)): { fetcher: WholeMessageFetcher; client: ScriptedClient } {
  const client = new ScriptedClient(messages);
  const fetcher = new WholeMessageFetcher(client as unknown as ImapFlow);
  for (const item of list) fetcher.offer(item);
  return { fetcher, client };
}

describe('IMAP small messages fetched whole', () => {
  test('the first take asks the following messages too, in one FETCH bounded by the window', async () => {
    const size = Math.floor(PREFETCH_WINDOW_BYTES / 4);
    const list = items([size, size, size, size, size, size]);
    const { fetcher, client } = fetcherFor(list);
    assert.equal((await fetcher.take(list[0]!))!.toString(), 'message 1');
    assert.equal(client.asked[0], '1,2,3,4');
    for (const item of list.slice(1)) assert.equal((await fetcher.take(item))!.toString(), `message ${item.uid}`);
    assert.deepEqual(client.asked.flatMap((r) => r.split(',')).map(Number), [1, 2, 3, 4, 5, 6], 'each message asked once, in order');
  });

  test('a message over WHOLE_FETCH_MAX_BYTES is never asked (it is streamed instead)', async () => {
    const list = items([100, WHOLE_FETCH_MAX_BYTES + 1, 100]);
    const { fetcher, client } = fetcherFor(list);
    assert.equal(WholeMessageFetcher.fits(list[1]!), false);
    await fetcher.take(list[0]!);
    await fetcher.take(list[2]!);
    assert.deepEqual(client.asked, ['1,3']);
  });

  test('a message dropped before it was asked is never fetched (a mail about to be put aside)', async () => {
    const list = items([100, 100, 100, 100]);
    const { fetcher, client } = fetcherFor(list);
    fetcher.drop(list[2]!);
    await fetcher.take(list[0]!);
    await fetcher.take(list[1]!);
    await fetcher.take(list[3]!);
    assert.deepEqual(client.asked.flatMap((r) => r.split(',')).map(Number), [1, 2, 4]);
  });

  test('a message whose size the server did not announce is streamed, not fetched whole', () => {
    assert.equal(WholeMessageFetcher.fits({ uid: 1, size: 0 }), false);
  });

  test('a message missing from the answer is undefined (gone), its neighbours are not', async () => {
    const list = items([100, 100, 100]);
    const messages = contents(list);
    messages.delete(2);
    const { fetcher } = fetcherFor(list, messages);
    assert.equal((await fetcher.take(list[0]!))!.toString(), 'message 1');
    assert.equal(await fetcher.take(list[1]!), undefined);
    assert.equal((await fetcher.take(list[2]!))!.toString(), 'message 3');
  });

  test('a FETCH of several messages that fails on a live connection is asked again one by one', async () => {
    const list = items([100, 100, 100]);
    const { fetcher, client } = fetcherFor(list);
    client.failWhen = (range) => (range === '1,2,3' || range === '2' ? new Error('NO server error') : undefined);
    assert.equal((await fetcher.take(list[0]!))!.toString(), 'message 1');
    await assert.rejects(fetcher.take(list[1]!), /NO server error/, 'only the message that fails alone fails');
    assert.equal((await fetcher.take(list[2]!))!.toString(), 'message 3');
    assert.deepEqual(client.asked, ['1,2,3', '1', '2', '3']);
  });

  test('a lost connection fails every message asked, without asking again', async () => {
    const list = items([100, 100]);
    const { fetcher, client } = fetcherFor(list);
    client.failWhen = () => {
      client.usable = false;
      return new Error('Connection closed');
    };
    await assert.rejects(fetcher.take(list[0]!), /Connection closed/);
    await assert.rejects(fetcher.take(list[1]!), /Connection closed/);
    assert.deepEqual(client.asked, ['1,2']);
  });

  test('a message dropped (never taken) frees its room in the window; clear() forgets the rest', async () => {
    const size = Math.floor(PREFETCH_WINDOW_BYTES / 4); // four fill the window
    assert.ok(size <= WHOLE_FETCH_MAX_BYTES);
    const list = items([size, size, size, size, size, size, size]);
    const { fetcher, client } = fetcherFor(list);
    await fetcher.take(list[0]!);
    assert.deepEqual(client.asked, ['1,2,3,4']);
    fetcher.drop(list[1]!); // e.g. put aside before it is read
    await fetcher.take(list[2]!); // only 4 left in the window: room for three more
    assert.deepEqual(client.asked, ['1,2,3,4', '5,6,7']);
    fetcher.clear();
    assert.equal((await fetcher.take(list[6]!))!.toString(), 'message 7', 'asked again alone after clear()');
    assert.deepEqual(client.asked, ['1,2,3,4', '5,6,7', '7']);
  });
});

describe('IMAP acknowledgements', () => {
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
    assert.ok(cond());
  };

  test('those asked together, or while a command is on its way, go out in one command; each settles with its command', async () => {
    const sent: number[][] = [];
    let release!: () => void;
    const batcher = new AckBatcher(async (uids) => {
      sent.push(uids);
      if (sent.length === 1) await new Promise<void>((r) => (release = r));
      if (uids.includes(14)) throw new Error('refused');
    });
    let firstDone = false;
    const first = [batcher.apply(10), batcher.apply(11)];
    void Promise.all(first).then(() => (firstDone = true));
    await until(() => sent.length === 1);
    assert.deepEqual(sent, [[10, 11]]);
    const later = [batcher.apply(12), batcher.apply(13)];
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(sent, [[10, 11]], 'nothing more is sent while a command is on its way');
    assert.equal(firstDone, false, 'not settled before the server answered');
    release();
    await Promise.all([...first, ...later]);
    assert.deepEqual(sent, [[10, 11], [12, 13]]);
    await assert.rejects(batcher.apply(14), /refused/);
    await batcher.apply(15);
    assert.deepEqual(sent, [[10, 11], [12, 13], [14], [15]]);
  });
});

describe('IMAP large messages: documents read for staging hold a slot', () => {
  test('a slot is held from opening until the stream is over (read, destroyed or failed to open)', async () => {
    const slots = new Semaphore(1);
    const open = openWithSlot(slots, async () => Readable.from([Buffer.from('abc')], { objectMode: false }));
    const first = await open();
    let secondOpened = false;
    const second = open().then((s) => ((secondOpened = true), s));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(secondOpened, false, 'waits while the first stream is not over');
    for await (const _ of first) void _;
    (await second).destroy();
    const failing = openWithSlot(slots, async () => {
      throw new Error('ENOENT');
    });
    await assert.rejects(failing(), /ENOENT/);
    const third = await open();
    third.destroy();
    await slots.use(async () => undefined); // every slot came back
  });
});
