import { Transform } from 'node:stream';

/**
 * A pass-through that fails the stream at its end when the bytes seen are not `expected`
 * (a file that changed while read, a truncated download). `expected` undefined: no check.
 */
export function lengthCheck(expected: number | undefined, mismatch: (seen: number) => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      cb(expected === undefined || seen === expected ? null : mismatch(seen));
    },
  });
}
