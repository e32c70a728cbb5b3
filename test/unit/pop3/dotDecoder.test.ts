import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { DotDecoder } from '../../../shared/sources/pop3/dotDecoder';

/** What a server sends for `content` (CRLF lines): byte-stuffed, then the terminating line. */
function encode(content: Buffer): Buffer {
  const stuffed = Buffer.from(content.toString('latin1').replace(/(^|\n)\./g, '$1..'), 'latin1');
  const ending = stuffed.length === 0 || stuffed.subarray(-2).equals(Buffer.from('\r\n')) ? '' : '\r\n';
  return Buffer.concat([stuffed, Buffer.from(`${ending}.\r\n`)]);
}

function decodeInChunks(wire: Buffer, cuts: number[]): { content: Buffer; rest: Buffer; done: boolean } {
  const d = new DotDecoder();
  const out: Buffer[] = [];
  let rest = Buffer.alloc(0);
  let from = 0;
  for (const cut of [...cuts, wire.length]) {
    const r = d.push(wire.subarray(from, cut));
    out.push(...r.data);
    if (r.rest) rest = Buffer.concat([rest, r.rest]);
    from = cut;
  }
  return { content: Buffer.concat(out), rest, done: d.done };
}

const SAMPLES: [string, Buffer][] = [
  ['plain lines', Buffer.from('Subject: a\r\n\r\nhello\r\nworld\r\n')],
  ['lines that start with dots', Buffer.from('.hidden\r\n..two\r\n.\r\nx\r\n. \r\n.\r\n')],
  ['a dot line at the very start', Buffer.from('.\r\n')],
  ['empty body', Buffer.alloc(0)],
  ['8-bit bytes that are not UTF-8', Buffer.from([0x41, 0xe9, 0xff, 0x00, 0x0d, 0x0a, 0x2e, 0xe8, 0x0d, 0x0a])],
  ['a lone CR after a leading dot', Buffer.from('.\rX\r\nend\r\n')],
];

for (const [name, content] of SAMPLES) {
  test(`decodes ${name}, whatever the chunk boundaries`, () => {
    const wire = Buffer.concat([encode(content), Buffer.from('+OK next\r\n')]);
    for (let a = 0; a <= wire.length; a++) {
      for (const b of [a, a + 1, a + 2, a + 3]) {
        if (b > wire.length) continue;
        const r = decodeInChunks(wire, a === b ? [a] : [a, b]);
        assert.ok(r.done, `terminator found (cuts ${a},${b})`);
        assert.deepEqual(r.content, content, `content (cuts ${a},${b})`);
        assert.equal(r.rest.toString(), '+OK next\r\n', `rest (cuts ${a},${b})`);
      }
    }
  });
}

test('byte by byte', () => {
  const content = Buffer.from('a\r\n.b\r\n..\r\n\r\n.\r\nz\r\n');
  const wire = encode(content);
  const r = decodeInChunks(wire, [...Array(wire.length).keys()].slice(1));
  assert.deepEqual([r.content, r.done], [content, true]);
});

test('random binary-ish content with many dot lines, in random chunks', () => {
  for (let round = 0; round < 50; round++) {
    const lines = Array.from({ length: 200 }, () => {
      const body = randomBytes(Math.floor(Math.random() * 20)).toString('latin1').replace(/[\r\n]/g, 'x');
      return (Math.random() < 0.3 ? '.' : '') + body;
    });
    const content = Buffer.from(lines.join('\r\n') + '\r\n', 'latin1');
    const wire = encode(content);
    const cuts: number[] = [];
    for (let at = 0; at < wire.length; at += 1 + Math.floor(Math.random() * 40)) cuts.push(at);
    const r = decodeInChunks(wire, cuts);
    assert.ok(r.done);
    assert.ok(r.content.equals(content));
  }
});

test('no terminator yet: not done, nothing lost', () => {
  const d = new DotDecoder();
  const r = d.push(Buffer.from('abc\r\n.'));
  assert.equal(d.done, false);
  assert.equal(Buffer.concat(r.data).toString(), 'abc\r\n');
  const r2 = d.push(Buffer.from('.x\r\n'));
  assert.equal(Buffer.concat(r2.data).toString(), '.x\r\n');
  assert.equal(d.done, false);
});

test('a bare LF line end is accepted, and ".\\n" ends the body', () => {
  const r = decodeInChunks(Buffer.from('a\n..b\n.\nrest'), []);
  assert.deepEqual([r.content.toString(), r.rest.toString(), r.done], ['a\n.b\n', 'rest', true]);
});
