const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
/** A line that starts with a dot: the only place where POP3 changes the content. */
const LF_DOT = Buffer.from('\n.');

export interface DecodedChunk {
  /** Content bytes, dot-unstuffing undone (views on the input, not copies). */
  data: Buffer[];
  /** Set once the terminating line was seen: the bytes that came after it (the next response's). */
  rest?: Buffer;
}

/**
 * The body of a POP3 multi-line response (RFC 1939 §3), decoded as it arrives: a line
 * that starts with "." had one added by the server ("byte-stuffing"), which is removed;
 * the line "." alone ends the body. Works on bytes, never on text (8-bit mail stays as
 * it is), with any split of the input into chunks, and copies nothing but the at most
 * two bytes kept when a chunk ends inside a "." line. Lines end at LF (servers send
 * CRLF; a bare LF is accepted as a line end too, as most clients do).
 */
export class DotDecoder {
  private atLineStart = true;
  private carry: Buffer | undefined;
  private finished = false;

  get done(): boolean {
    return this.finished;
  }

  push(chunk: Buffer): DecodedChunk {
    if (this.finished) return { data: [], rest: chunk };
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    const data: Buffer[] = [];
    const emit = (from: number, to: number) => {
      if (to > from) data.push(buf.subarray(from, to));
    };
    let emitFrom = 0;
    let dot = this.atLineStart && buf.length > 0 && buf[0] === DOT ? 0 : nextLineDot(buf, 0);
    while (dot !== -1) {
      emit(emitFrom, dot);
      const after = buf[dot + 1];
      const needMore = dot + 1 >= buf.length || (after === CR && dot + 2 >= buf.length);
      if (needMore) {
        this.carry = Buffer.from(buf.subarray(dot));
        this.atLineStart = true;
        return { data };
      }
      if (after === LF || (after === CR && buf[dot + 2] === LF)) {
        this.finished = true;
        return { data, rest: buf.subarray(dot + (after === LF ? 2 : 3)) };
      }
      emitFrom = dot + 1; // the stuffed dot is dropped
      dot = nextLineDot(buf, dot + 1);
    }
    emit(emitFrom, buf.length);
    if (buf.length > 0) this.atLineStart = buf[buf.length - 1] === LF;
    return { data };
  }
}

/** Index of the next "." that starts a line, after position `from`, or -1. */
function nextLineDot(buf: Buffer, from: number): number {
  const at = buf.indexOf(LF_DOT, from);
  return at === -1 ? -1 : at + 1;
}
