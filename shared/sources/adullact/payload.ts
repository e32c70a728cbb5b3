import { PassThrough, Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ItemRejectedError } from '../../errors';
import { EnvelopeFormatError } from './errors';

/** Character references XML writers put at line ends (`&#13;`, `&#xD;`), skipped. */
const REFERENCE = /&#?[0-9A-Za-z]{1,8};/g;
const WHITESPACE = /[ \r\n\t]+/g;
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;

/**
 * Decodes base64 text as it streams (the content of a `Fichier` element): skips
 * whitespace and `&#..;` references that XML writers put at line ends, keeps the
 * partial group of 4 characters between chunks, rejects anything else.
 */
export class Base64Decoder extends Transform {
  private carry = '';
  private inReference = false;
  private seen = 0;

  constructor(private readonly what: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let text = chunk.toString('latin1');
    if (this.inReference) {
      const semi = text.indexOf(';');
      this.inReference = semi < 0;
      text = semi < 0 ? '' : text.slice(semi + 1);
    }
    text = text.replace(REFERENCE, '');
    const amp = text.indexOf('&');
    if (amp >= 0) {
      this.inReference = true;
      text = text.slice(0, amp);
    }
    const clean = text.replace(WHITESPACE, '');
    const bad = NOT_BASE64.exec(clean);
    if (bad) {
      cb(new EnvelopeFormatError('BASE64_INVALID', `${this.what}: ${JSON.stringify(bad[0])} after byte ${this.seen} is not base64`));
      return;
    }
    this.seen += chunk.length;
    const all = this.carry + clean;
    const whole = all.length - (all.length % 4);
    this.carry = all.slice(whole);
    cb(null, whole > 0 ? Buffer.from(all.slice(0, whole), 'base64') : undefined);
  }

  override _flush(cb: TransformCallback): void {
    if (this.carry.replace(/=/g, '').length === 1) {
      cb(new EnvelopeFormatError('BASE64_INVALID', `${this.what}: base64 text ends with a lone character`));
      return;
    }
    cb(null, this.carry ? Buffer.from(this.carry, 'base64') : undefined);
  }
}

/** True when the base64 text starts with a gzip header (1f 8b). */
export function isGzipBase64(head: string): boolean {
  const bytes = Buffer.from(head.slice(0, 4), 'base64');
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The decoded content of a payload: base64 → (gunzip when it is gzip) as a stream.
 * Bad base64 or a corrupt gzip ends the stream with an ItemRejectedError (the envelope
 * is put aside: it will never decode); a read error of the source passes as it is.
 */
export function decodePayload(encoded: Readable, gzip: boolean, what: string): Readable {
  const out = new PassThrough();
  const stages: Transform[] = gzip ? [new Base64Decoder(what), createGunzip()] : [new Base64Decoder(what)];
  // `out` stays outside the pipeline, so the error it ends with is the one chosen here.
  pipeline([encoded, ...stages], (err: NodeJS.ErrnoException | null) => {
    if (err) out.destroy(asRejection(err, what));
  });
  stages[stages.length - 1].pipe(out);
  out.on('close', () => {
    if (!encoded.destroyed) encoded.destroy();
  });
  return out;
}

function asRejection(err: NodeJS.ErrnoException, what: string): Error {
  if (err instanceof EnvelopeFormatError) return new ItemRejectedError(err.message, { cause: err });
  if (String(err.code).startsWith('Z_')) {
    return new ItemRejectedError(`${what}: the embedded gzip is corrupt (${err.message})`, { cause: new EnvelopeFormatError('BASE64_INVALID', err.message, { cause: err }) });
  }
  return err;
}
