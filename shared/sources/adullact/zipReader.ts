import { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { EnvelopeFormatError } from './errors';
import { byPath, type EnvelopeFile, type EnvelopeReader } from './envelopeReader';

/** ZIP general-purpose flag bit 11: names are UTF-8. */
const UTF8_FLAG = 0x800;

interface ZipEntryRef extends EnvelopeFile {
  /** Index of the entry in the central directory. */
  index: number;
}

/**
 * An envelope written as one `.zip` (Pastell `depot_type_depot` = 2), read with yauzl:
 * the central directory gives the list, each file is inflated as a stream when opened,
 * never extracted to disk nor held in memory. yauzl refuses absolute and `..` names.
 */
export function zipReader(zipPath: string, label: string): EnvelopeReader {
  let listing: Promise<ZipEntryRef[]> | undefined;
  const entries = () => (listing ??= readListing(zipPath, label));

  async function openEntry(path: string): Promise<Readable> {
    const ref = (await entries()).find((e) => e.path === path);
    if (!ref) throw new EnvelopeFormatError('ZIP_UNREADABLE', `${label}: no entry "${path}" in the zip`);
    const zip = await openZip(zipPath, label);
    try {
      let index = 0;
      for await (const entry of zip.eachEntry()) {
        if (index++ !== ref.index) continue;
        if (entry.isEncrypted()) throw new EnvelopeFormatError('ZIP_UNREADABLE', `${label}: "${path}" is encrypted in the zip`);
        const stream = await zip.openReadStreamPromise(entry);
        stream.once('close', () => zip.close());
        stream.once('end', () => zip.close());
        return stream;
      }
    } catch (err) {
      zip.close();
      throw wrap(err, label);
    }
    zip.close();
    throw new EnvelopeFormatError('ZIP_UNREADABLE', `${label}: entry "${path}" vanished from the zip`);
  }

  return {
    list: async () => (await entries()).map(({ path, size }) => ({ path, size })),
    open: openEntry,
    async openRange(path, start, end) {
      const source = await openEntry(path);
      return Readable.from(slice(source, start, end));
    },
  };
}

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

function wrap(err: unknown, label: string): Error {
  if (err instanceof EnvelopeFormatError) return err;
  return new EnvelopeFormatError('ZIP_UNREADABLE', `${label}: not a readable zip (${(err as Error).message})`, { cause: err });
}
