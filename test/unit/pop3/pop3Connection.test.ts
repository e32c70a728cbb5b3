import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SourceError } from '../../../shared/errors';
import { listMailbox } from '../../../shared/sources/pop3/listing';
import { Pop3Connection, Pop3ServerError } from '../../../shared/sources/pop3/pop3Connection';

/**
 * The framing of the POP3 client against a scripted loopback server: answers that arrive
 * glued to the status line or split at every byte, a server without UIDL, a silent
 * server, a reader that gives up. (The real protocol is tested against Dovecot in
 * test/integration/pop3.test.ts; these are the shapes Dovecot does not produce on demand.)
 */
type Script = (line: string, socket: Socket) => void;

let server: Server;
let port = 0;
let script: Script = () => undefined;
let splitWrites = false;

function send(socket: Socket, data: string | Buffer): void {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
  if (!splitWrites) return void socket.write(buf);
  // One byte per write, each flushed on its own.
  let i = 0;
  const next = () => {
    if (i >= buf.length || socket.destroyed) return;
    socket.write(buf.subarray(i, ++i), () => setImmediate(next));
  };
  next();
}

before(async () => {
  server = createServer((socket) => {
    socket.on('error', () => undefined);
    send(socket, '+OK ready\r\n');
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      let at: number;
      while ((at = buffered.indexOf('\r\n')) !== -1) {
        const line = buffered.slice(0, at);
        buffered = buffered.slice(at + 2);
        script(line, socket);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const open = (timeoutMs = 5_000) => Pop3Connection.open({ host: '127.0.0.1', port, security: 'none', tls: {}, timeoutMs }).then((o) => o.connection);

const MESSAGE = Buffer.concat([Buffer.from('Subject: x\r\n\r\n.dot line\r\n\xe9t\xe9\r\n.\r\n', 'latin1'), Buffer.alloc(100_000, 'a'), Buffer.from('\r\n')]);
const stuffed = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/(^|\n)\./g, '$1..'), 'latin1');

function mailbox(line: string, socket: Socket): void {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'UIDL') send(socket, '+OK\r\n1 aaa\r\n2 bbb\r\n3 aaa\r\n.\r\n');
  else if (cmd === 'LIST') send(socket, '+OK 3 messages\r\n1 10\r\n2 20\r\n3 30\r\n.\r\n');
  else if (cmd === 'RETR' && arg === '1') send(socket, Buffer.concat([Buffer.from(`+OK ${MESSAGE.length} octets\r\n`), stuffed(MESSAGE), Buffer.from('.\r\n')]));
  else if (cmd === 'NOOP') send(socket, '+OK\r\n');
  else send(socket, '-ERR [SYS/PERM] no such thing\r\n');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(stream, new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
  return Buffer.concat(parts);
}

for (const split of [false, true]) {
  test(`a message glued to its status line${split ? ', and every byte sent on its own' : ''}: byte for byte, and the connection stays in step`, async () => {
    splitWrites = split;
    script = mailbox;
    const c = await open();
    try {
      const body = await readAll(await c.body('RETR 1'));
      assert.ok(body.equals(MESSAGE));
      assert.equal(await c.command('NOOP'), '');
      const listing = await listMailbox(c);
      assert.deepEqual(listing.entries, [{ number: 1, uidl: 'aaa', size: 10 }, { number: 2, uidl: 'bbb', size: 20 }]);
      assert.deepEqual(listing.duplicates, [{ number: 3, uidl: 'aaa', size: 30 }]);
    } finally {
      splitWrites = false;
      c.destroy();
    }
  });
}

test('a reader that gives up: the rest of the message is dropped and the next command works', async () => {
  script = mailbox;
  const c = await open();
  try {
    const stream = await c.body('RETR 1');
    await new Promise<void>((r) => stream.once('readable', () => r()));
    stream.destroy();
    assert.equal(await c.command('NOOP'), '');
  } finally {
    c.destroy();
  }
});

test('-ERR is a Pop3ServerError with its response code; a server without UIDL cannot be used', async () => {
  script = (line, socket) => send(socket, line.startsWith('UIDL') ? '-ERR unknown command\r\n' : '-ERR [SYS/PERM] no such message\r\n');
  const c = await open();
  try {
    const err = await c.command('RETR 9').catch((e: unknown) => e);
    assert.ok(err instanceof Pop3ServerError);
    assert.deepEqual([err.command, err.responseCode, err.text], ['RETR 9', 'SYS/PERM', '[SYS/PERM] no such message']);
    await assert.rejects(listMailbox(c), (e: SourceError) => e.code === 'POP3_NO_UIDL');
  } finally {
    c.destroy();
  }
});

test('a server that stops answering: POP3_TIMEOUT, and every later command fails at once', async () => {
  script = () => undefined;
  const c = await open(300);
  await assert.rejects(c.command('NOOP'), (e: SourceError) => e.code === 'POP3_TIMEOUT');
  await assert.rejects(c.command('NOOP'), (e: SourceError) => e.code === 'POP3_TIMEOUT');
  assert.equal(c.closed, true);
});

test('the connection drops in the middle of a message: the stream fails, nothing pretends to be whole', async () => {
  script = (line, socket) => {
    if (line.startsWith('RETR')) {
      socket.write('+OK\r\nSubject: x\r\n\r\npartial');
      setTimeout(() => socket.destroy(), 20);
    }
  };
  const c = await open();
  const stream = await c.body('RETR 1');
  await assert.rejects(readAll(stream), (e: SourceError) => e.code === 'POP3_CLOSED');
});

test('STLS refused: the error names the command; commands never carry line breaks', async () => {
  script = (line, socket) => send(socket, line === 'STLS' ? '-ERR not supported\r\n' : '+OK\r\n');
  const err = await Pop3Connection.open({ host: '127.0.0.1', port, security: 'starttls', tls: {}, timeoutMs: 2_000 }).catch((e: unknown) => e);
  assert.ok(err instanceof Pop3ServerError && err.command === 'STLS');
  const c = await open();
  try {
    await assert.rejects(c.command('USER a\r\nDELE 1'), /may not contain a line break/);
  } finally {
    c.destroy();
  }
});

test('data sent after +OK to STLS, before the handshake, is refused (no plain-text injection)', async () => {
  script = (line, socket) => send(socket, line === 'STLS' ? '+OK begin TLS\r\n+OK injected\r\n' : '+OK\r\n');
  await assert.rejects(
    Pop3Connection.open({ host: '127.0.0.1', port, security: 'starttls', tls: {}, timeoutMs: 2_000 }),
    /sent data after accepting STLS/,
  );
});
