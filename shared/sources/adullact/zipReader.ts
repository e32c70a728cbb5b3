import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { SourceError } from '../../errors';
import { EnvelopeFormatError, describeReadError } from './errors';
import { OPEN_CHUNK_BYTES, RANGE_CHUNK_BYTES, byPath, discard, type EnvelopeFile, type EnvelopeReader } from './envelopeReader';
import { SpoolFolder } from './spoolFolder';

/** ZIP general-purpose flag bit 11: names are UTF-8. */
const UTF8_FLAG = 0x800;

/** Entries at least this large (inflated) are spooled to a temp file while the zip is checked. */
export const SPOOL_MIN_BYTES = 1024 * 1024;

interface ZipEntryRef extends EnvelopeFile {
  /** Index of the entry in the central directory. */
  index: number;
}

export interface ZipReaderOptions {
  /** Where the spool folder is made (default: the OS temp folder). */
  tmpRoot?: string;
  /** Entries at least this large are spooled (default SPOOL_MIN_BYTES; Infinity: never). */
  spoolMinBytes?: number;
}

/**
 * An envelope written as one `.zip` (Pastell `depot_type_depot` = 2), read with yauzl:
 * the central directory gives the list, each file is inflated as a stream when opened,
 * never held in memory. yauzl refuses absolute and `..` names.
 *
 * verify() inflates every entry once, CRC-32 checked; an entry of SPOOL_MIN_BYTES or more
 * is written on the way to a temp file (SpoolFolder), and from then on read from there
 * like a folder envelope's file: a PES is inflated once per envelope, not once for its
 * skeleton, once for its PJ check and once per PJ (each PJ lies somewhere in the inflated
 * stream, reached only by inflating from the start). Memory stays flat (streams with
 * back-pressure). A temp file that cannot be written (disk full...) only means the entry
 * is inflated again when read. close() removes the temp files; a closed reader reads the
 * zip again.
 *
 * Errors are told apart: what says the zip itself is broken (yauzl's complaints, zlib's
 * `Z_*` errors on an entry's data, a CRC-32 mismatch) is an EnvelopeFormatError (the
 * envelope is put aside); a system error reading the file (EACCES, EBUSY, EMFILE, an SMB
 * timeout...) is a SourceError: the envelope is tried again by a later run.
 */
export function zipReader(zipPath: string, label: string, options: ZipReaderOptions = {}): EnvelopeReader {
  const spoolMinBytes = options.spoolMinBytes ?? SPOOL_MIN_BYTES;
  let listing: Promise<ZipEntryRef[]> | undefined;
  const entries = () => (listing ??= readListing(zipPath, label));
  /** Entries inflated whole, CRC-32 checked, into a temp file: path in the zip → file. */
  const spooled = new Map<string, { file: string; size: number }>();
  let folder: Promise<SpoolFolder | undefined> | undefined;
  let closed = false;

  /** The spooled copy of an entry, opened (a handle: it cannot vanish while read), if any. */
  async function spooledHandle(path: string): Promise<{ handle: FileHandle; size: number } | undefined> {
    const copy = spooled.get(path);
    if (!copy) return undefined;
    try {
      return { handle: await open(copy.file, 'r'), size: copy.size };
    } catch {
      spooled.delete(path); // removed meanwhile (released): read from the zip
      return undefined;
    }
  }

  async function openEntry(path: string, chunkBytes = OPEN_CHUNK_BYTES): Promise<Readable> {
    const copy = await spooledHandle(path);
    if (copy) return createReadStream('', { fd: copy.handle, highWaterMark: chunkBytes });
    return inflateEntry(path);
  }

  async function inflateEntry(path: string): Promise<Readable> {
    const ref = (await entries()).find((e) => e.path === path);
    if (!ref) throw new EnvelopeFormatError('ZIP_UNREADABLE', `${label}: no entry "${path}" in the zip`);
    const zip = await openZip(zipPath, label);
    try {
      let index = 0;
      for await (const entry of zip.eachEntry()) {
        if (index++ !== ref.index) continue;
        const stream = await entryStream(zip, entry, label, path);
        stream.once('close', () => zip.close());
        return stream;
      }
    } catch (err) {
      zip.close();
      throw wrap(err, label);
    }
    zip.close();
    throw new EnvelopeFormatError('ZIP_UNREADABLE', `${label}: entry "${path}" vanished from the zip`);
  }

  /**
   * Inflates every entry once, in one pass over the zip, CRC-32 checked; keeps the large
   * ones in temp files, discards the others' bytes.
   */
  async function verify(): Promise<void> {
    const all = await entries();
    const wanted = new Map(all.map((e) => [e.index, e]));
    // Only the entry a read would pick (the first of its path) may be spooled: with two
    // entries of one path, the document's bytes must not depend on the spool.
    const firstOfPath = new Map<string, number>();
    for (const e of all) if (!firstOfPath.has(e.path)) firstOfPath.set(e.path, e.index);
    const zip = await openZip(zipPath, label);
    try {
      let index = 0;
      for await (const entry of zip.eachEntry()) {
        const ref = wanted.get(index++);
        if (ref === undefined) continue;
        const dir = ref.size >= spoolMinBytes && firstOfPath.get(ref.path) === ref.index && !spooled.has(ref.path) ? await spoolFolder() : undefined;
        const sink = dir ? new SpoolSink(dir.newFile()) : discard();
        await pipeline(await entryStream(zip, entry, label, ref.path), sink);
        if (sink instanceof SpoolSink) await keep(ref, sink);
      }
    } catch (err) {
      throw wrap(err, label);
    } finally {
      zip.close();
    }
  }

  function spoolFolder(): Promise<SpoolFolder | undefined> {
    if (closed) return Promise.resolve(undefined);
    // no temp folder (none writable): entries are inflated when read, as without one
    return (folder ??= SpoolFolder.create(options.tmpRoot).catch(() => undefined));
  }

  async function keep(ref: ZipEntryRef, sink: SpoolSink): Promise<void> {
    if (!closed && sink.failed === undefined && sink.written === ref.size) spooled.set(ref.path, { file: sink.path, size: ref.size });
    else await rm(sink.path, { force: true }).catch(() => undefined);
  }

  return {
    list: async () => (await entries()).map(({ path, size }) => ({ path, size })),
    open: openEntry,
    async openRange(path, start, end) {
      const copy = await spooledHandle(path);
      if (copy) {
        if (end <= start || start >= copy.size) {
          await copy.handle.close();
          return Readable.from([]);
        }
        return createReadStream('', { fd: copy.handle, start, end: Math.min(end, copy.size) - 1, highWaterMark: RANGE_CHUNK_BYTES });
      }
      const source = await inflateEntry(path);
      return Readable.from(slice(source, start, end));
    },
    verify,
    async close() {
      closed = true;
      spooled.clear();
      const dir = await folder;
      folder = undefined;
      await dir?.dispose();
    },
  };
}

/**
 * Writes what it gets to a new file (exclusive create), in batches. A write error (disk
 * full, temp folder gone) is not the zip's fault: it is noted in `failed`, the rest is
 * discarded, and the entry is not spooled; the check of the entry goes on.
 */
class SpoolSink extends Writable {
  failed: unknown;
  written = 0;
  private handle: FileHandle | undefined;

  constructor(readonly path: string) {
    super({ highWaterMark: OPEN_CHUNK_BYTES });
  }

  override _construct(cb: (err?: Error | null) => void): void {
    open(this.path, 'wx', 0o600).then(
      (h) => {
        this.handle = h;
        cb();
      },
      (err: unknown) => {
        this.failed = err;
        cb();
      },
    );
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    if (this.failed !== undefined || !this.handle) {
      cb();
      return;
    }
    this.handle.writev(chunks.map((c) => c.chunk)).then(
      ({ bytesWritten }) => {
        this.written += bytesWritten;
        cb();
      },
      (err: unknown) => {
        this.failed = err;
        cb();
      },
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.closeFile().then(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.closeFile().then(() => cb(err));
  }

  private async closeFile(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    try {
      await h?.close();
    } catch (err) {
      this.failed ??= err;
    }
  }
}

/**
 * The inflated content of one entry. Errors of yauzl's stream (which emits them without
 * being destroyed) become this stream's error, as EnvelopeFormatError when the data is
 * corrupt; read whole, the content's CRC-32 is checked against the central directory.
 */
async function entryStream(zip: ZipFile, entry: Entry, label: string, path: string): Promise<Readable> {
  if (entry.isEncrypted()) throw new EnvelopeFormatError('ZIP_UNREADABLE', `${label}: "${path}" is encrypted in the zip`);
  const raw = await zip.openReadStreamPromise(entry);
  const out = new CrcCheck(entry.crc32, label, path);
  raw.on('error', (err) => out.destroy(entryError(err, label, path)));
  out.once('close', () => {
    raw.unpipe(out);
    if (!raw.destroyed) raw.destroy();
  });
  raw.pipe(out);
  return out;
}

/** Passes the bytes on; at the end, compares their CRC-32 with the expected one. */
class CrcCheck extends Transform {
  private crc = 0;
  private readonly enabled = typeof zlib.crc32 === 'function'; // Node ≥ 20.15

  constructor(
    private readonly expected: number,
    private readonly label: string,
    private readonly path: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.enabled) this.crc = zlib.crc32(chunk, this.crc);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.enabled && this.crc >>> 0 !== this.expected >>> 0) {
      cb(new EnvelopeFormatError('ZIP_ENTRY_CORRUPT', `${this.label}: "${this.path}" is corrupt in the zip (CRC-32 ${hex(this.crc)}, the zip says ${hex(this.expected)})`));
      return;
    }
    cb();
  }
}

const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

async function* slice(source: Readable, start: number, end: number): AsyncGenerator<Buffer> {
  let pos = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const from = Math.max(start - pos, 0);
      const to = Math.min(end - pos, chunk.length);
      if (to > from) yield chunk.subarray(from, to);
      pos += chunk.length;
      if (pos >= end) break;
    }
  } finally {
    source.destroy();
  }
}

async function openZip(zipPath: string, label: string): Promise<ZipFile> {
  try {
    return await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true });
  } catch (err) {
    throw wrap(err, label);
  }
}

async function readListing(zipPath: string, label: string): Promise<ZipEntryRef[]> {
  const zip = await openZip(zipPath, label);
  const out: ZipEntryRef[] = [];
  try {
    let index = 0;
    for await (const entry of zip.eachEntry()) {
      const name = entryName(entry);
      if (!name.endsWith('/')) out.push({ index, path: name, size: entry.uncompressedSize });
      index++;
    }
  } catch (err) {
    throw wrap(err, label);
  } finally {
    zip.close();
  }
  return stripCommonFolder(out).sort(byPath);
}

/**
 * The entry's name. yauzl decodes names without the UTF-8 flag as CP437, as the ZIP
 * specification says; PHP's ZipArchive (Pastell) writes UTF-8 bytes without setting the
 * flag, so valid UTF-8 bytes are read as UTF-8.
 */
function entryName(entry: Entry): string {
  const raw = entry.fileNameRaw;
  if (!(entry.generalPurposeBitFlag & UTF8_FLAG) && raw && raw.some((b) => b >= 0x80)) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw).replace(/\\/g, '/');
    } catch {
      /* not UTF-8: keep yauzl's CP437 reading */
    }
  }
  return entry.fileName.replace(/\\/g, '/');
}

/** A zip whose every file sits in one top folder (`objet/acte.pdf`) is read as if flat. */
function stripCommonFolder(files: ZipEntryRef[]): ZipEntryRef[] {
  if (files.length === 0) return files;
  const first = files[0].path.split('/')[0];
  if (!files.every((f) => f.path.startsWith(first + '/'))) return files;
  return files.map((f) => ({ ...f, path: f.path.slice(first.length + 1) }));
}

/**
 * True when an error says the zip's bytes are wrong: yauzl's own complaints carry no
 * `code`, zlib's carry `Z_*`. System errors (`EACCES`, `EBUSY`, `EMFILE`, `ETIMEDOUT`,
 * `EIO`...) and Node's `ERR_*` say reading failed now, not that the zip is broken.
 */
export function isZipFormatError(err: unknown): boolean {
  if (err instanceof EnvelopeFormatError) return true;
  if (err instanceof SourceError || !(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return code === undefined || code === null || String(code).startsWith('Z_');
}

/** An error while reading the zip as a whole (opening it, its central directory). */
function wrap(err: unknown, label: string): Error {
  if (err instanceof EnvelopeFormatError || err instanceof SourceError) return err;
  if (isZipFormatError(err)) return new EnvelopeFormatError('ZIP_UNREADABLE', `${label}: not a readable zip (${(err as Error).message})`, { cause: err });
  return new SourceError('ZIP_READ_FAILED', `${label}: the zip cannot be read now (${describeReadError(err)}); tried again by a later run`, { cause: err });
}

/** An error while inflating one entry's data. */
function entryError(err: unknown, label: string, path: string): Error {
  if (err instanceof EnvelopeFormatError || err instanceof SourceError) return err;
  if (isZipFormatError(err)) return new EnvelopeFormatError('ZIP_ENTRY_CORRUPT', `${label}: "${path}" cannot be inflated, its data in the zip is corrupt (${(err as Error).message})`, { cause: err });
  return new SourceError('ZIP_READ_FAILED', `${label}: "${path}" cannot be read now (${describeReadError(err)}); tried again by a later run`, { cause: err });
}

