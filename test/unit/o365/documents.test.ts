import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { launcherSchema } from '../../../shared/config/schema';
import { ItemRejectedError } from '../../../shared/errors';
import { SMALL_ATTACHMENT_BYTES, itemContent, type AttachmentSummary } from '../../../shared/sources/o365/attachments';
import type { O365Launcher } from '../../../shared/sources/o365/auth';
import { messageDocuments } from '../../../shared/sources/o365/documents';
import { NothingToFileError } from '../../../shared/sources/o365/errors';
import type { GraphClient } from '../../../shared/sources/o365/graphClient';
import { silentLogger } from '../../../shared/util/log';

const FILE = '#microsoft.graph.fileAttachment';
const ITEM = '#microsoft.graph.itemAttachment';
/** Graph's size counts the attachment's properties too (an empty file is never announced at 0). */
const PROPERTIES = 230;

/** A Graph client answering one message's attachments, as Graph's reference shows them. */
class StubGraph {
  readonly urls: string[] = [];
  readonly streamed: string[] = [];
  constructor(
    private readonly attachments: (AttachmentSummary & { content?: Buffer })[],
    private readonly body = 'Bonjour',
  ) {}
  async getJson<T>(url: string): Promise<T> {
    this.urls.push(url);
    if (url.includes('/attachments?')) return { value: this.attachments.map(({ content: _c, ...a }) => a) } as T;
    return { body: { contentType: 'text', content: this.body } } as T;
  }
  async getStream(path: string): Promise<Readable> {
    this.streamed.push(path);
    const att = this.attachments.find((a) => path.includes(`/attachments/${encodeURIComponent(a.id)}/`));
    return Readable.from([att?.content ?? Buffer.from('MIME of the message')], { objectMode: false });
  }
}

function launcher(extra: Record<string, unknown> = {}): O365Launcher {
  return launcherSchema.parse({
    id: 'o1', protocol: 'o365', tenantId: 'contoso.fr', clientId: '11111111-2222-3333-4444-555555555555', scenarios: [{ waitdir: 'w' }], ...extra,
  }) as O365Launcher;
}
const file = (id: string, name: string | null, content: Buffer, extra: Partial<AttachmentSummary> = {}) => ({
  '@odata.type': FILE, id, name, contentType: 'application/pdf', size: content.length + PROPERTIES, isInline: false, content, ...extra,
});
const item = (id: string, name: string, type: string) => ({ '@odata.type': ITEM, id, name, contentType: null, size: 3000, isInline: false, item: { '@odata.type': type, id: '' } });
const docsOf = async (graph: StubGraph, l = launcher(), subject = 'Dossier') =>
  messageDocuments(graph as unknown as GraphClient, l, '/users/ged%40contoso.fr', { id: 'M1', subject }, silentLogger);

test('names follow the shared mail rules: duplicates scan_2, unnamed from the type, extension from the type, empty left out', async () => {
  const graph = new StubGraph([
    file('a', 'scan.pdf', Buffer.from('%PDF 1')),
    file('b', 'Scan.PDF', Buffer.from('%PDF 2')),
    file('c', null, Buffer.from('%PDF 3')),
    file('d', '  ', Buffer.from('PNG'), { contentType: 'image/png' }),
    file('e', 'bon de livraison', Buffer.from('%PDF 5')),
    file('f', 'vide.pdf', Buffer.alloc(0)),
  ]);
  const docs = await docsOf(graph);
  assert.deepEqual(docs.map((d) => d.name), ['scan.pdf', 'Scan_2.PDF', 'document.pdf', 'image.png', 'bon de livraison.pdf']);
  assert.equal(await text(await docs[1]!.open()), '%PDF 2');
  assert.match(graph.urls[0]!, /\/attachments\?\$select=id,name,contentType,size,isInline&\$expand=microsoft\.graph\.itemAttachment\/item\(\$select=id\)$/);
});

test('an attached event is .ics, a contact .vcf, a message or meeting request .eml (by the expanded item type)', async () => {
  const graph = new StubGraph([
    item('e', 'Réunion de chantier', '#microsoft.graph.event'),
    item('c', 'Jean Dupont', '#microsoft.graph.contact'),
    item('m', 'RE: Relance / avril', '#microsoft.graph.message'),
    item('i', 'Invitation', '#microsoft.graph.eventMessage'),
    item('u', '', '#microsoft.graph.event'),
  ]);
  const docs = await docsOf(graph);
  assert.deepEqual(docs.map((d) => [d.name, d.contentType]), [
    ['Réunion de chantier.ics', 'text/calendar'],
    ['Jean Dupont.vcf', 'text/vcard'],
    ['RE Relance avril.eml', 'message/rfc822'],
    ['Invitation.eml', 'message/rfc822'],
    ['event.ics', 'text/calendar'],
  ]);
  // An item whose type Graph did not expand is read as MIME, as before.
  assert.equal(itemContent({ '@odata.type': ITEM, id: 'x' }).ext, 'eml');
});

test('an inline PDF is a document; inline images only with includeInline; nothing left: put aside with the reason', async () => {
  const inlinePdf = new StubGraph([file('p', 'releve.pdf', Buffer.from('%PDF r'), { isInline: true })]);
  assert.deepEqual((await docsOf(inlinePdf)).map((d) => d.name), ['releve.pdf']);

  const logo = () => new StubGraph([file('l', 'image001.png', Buffer.from('PNG'), { isInline: true, contentType: 'image/png' })]);
  await assert.rejects(docsOf(logo()), (err: unknown) => {
    assert.ok(err instanceof NothingToFileError && err instanceof ItemRejectedError, 'put aside by the pipeline');
    assert.equal(err.code, 'NOTHING_TO_FILE', 'the code of the MIME layer\'s NothingToFileError (IMAP, POP3)');
    assert.match(err.message, /nothing to file: only embedded images \(image001\.png; "includeInline" takes them\) \(withoutAttachments is "skip"\)/);
    return true;
  });
  assert.deepEqual((await docsOf(logo(), launcher({ includeInline: true }))).map((d) => d.name), ['image001.png']);
  await assert.rejects(docsOf(new StubGraph([file('f', 'vide.pdf', Buffer.alloc(0))])), /nothing to file: only empty attachments \(vide\.pdf\)/);
  await assert.rejects(docsOf(new StubGraph([])), /nothing to file: no attachment \(withoutAttachments is "skip"\)/);
  assert.deepEqual((await docsOf(new StubGraph([]), launcher({ withoutAttachments: 'eml' }), 'Courrier: simple')).map((d) => d.name), ['Courrier simple.eml']);
  assert.deepEqual((await docsOf(new StubGraph([]), launcher({ withoutAttachments: 'body' }))).map((d) => d.name), ['Dossier.txt']);
  // An empty body has nothing to file (as IMAP and POP3); with wholeMessage the .eml does.
  await assert.rejects(docsOf(new StubGraph([], ' '), launcher({ withoutAttachments: 'body' })), /an empty body: nothing to file/);
  assert.deepEqual((await docsOf(new StubGraph([], ''), launcher({ withoutAttachments: 'body', wholeMessage: true }))).map((d) => d.name), ['Dossier.eml']);
});

test('small attachments are read while listing (emptiness known), large ones only streamed when staged', async () => {
  const big = { ...file('b', 'plan.pdf', Buffer.from('%PDF big')), size: SMALL_ATTACHMENT_BYTES + 1 };
  const graph = new StubGraph([file('s', 'petit.pdf', Buffer.from('%PDF small')), big]);
  const docs = await docsOf(graph, launcher({ wholeMessage: true }));
  assert.deepEqual(docs.map((d) => d.name), ['petit.pdf', 'plan.pdf', 'Dossier.eml']);
  assert.equal(graph.streamed.length, 1, 'only the small one was read');
  assert.equal(await text(await docs[0]!.open()), '%PDF small');
  assert.equal(graph.streamed.length, 1, 'and not read twice');
  assert.equal(await text(await docs[1]!.open()), '%PDF big');
  assert.equal(graph.streamed.length, 2);
});

test('an attachment announced small that turns out large is not held: it is streamed again when staged', async () => {
  const large = Buffer.alloc(100 * 1024, 'x');
  const graph = new StubGraph([{ ...file('l', 'annexe.pdf', large), size: PROPERTIES }]);
  const docs = await docsOf(graph);
  assert.deepEqual(docs.map((d) => d.name), ['annexe.pdf']);
  assert.equal(graph.streamed.length, 1, 'read while listing, given up past the small-read limit');
  assert.equal((await text(await docs[0]!.open())).length, large.length);
  assert.equal(graph.streamed.length, 2, 'streamed from $value when staged');
});
