import type { LauncherDefinition } from '../config/schema';
import type { Router, Scenario } from '../routing/scenarios';
import { documentBlobNames } from '../staging/blobNames';
import type { BlobStore } from '../staging/blobStore';
import { encodeDocumentFacts, encodeMetadata } from '../staging/metadata';
import type { SourceDocument, SourceItem } from '../sources/types';
import { failpoint } from '../util/failpoints';
import type { Logger } from '../util/log';

export type StageResult =
  | { status: 'unrouted'; documents: string[] }
  | { status: 'staged'; blobs: string[]; written: number; complete: boolean };

interface RoutedDocument {
  doc: SourceDocument;
  scenario: Scenario;
  blob: string;
}

/**
 * Stages every document of one item, exactly once whatever crashed before:
 * 1. route each document (none may be left without a scenario, or the item stays);
 * 2. write each document with If-None-Match. When the item may have been started by an
 *    earlier run (`resumed`), a document already in staging, archive or failed is
 *    skipped: the sender may have delivered and archived it since.
 * `complete` says every document was written by this call (nothing to look up later).
 */
export async function stageItem(
  store: BlobStore,
  launcher: LauncherDefinition,
  route: Router,
  item: SourceItem,
  docs: SourceDocument[],
  opts: { resumed: boolean; log: Logger; now: Date },
): Promise<StageResult> {
  const routed: RoutedDocument[] = [];
  const unrouted: string[] = [];
  const blobs = documentBlobNames(launcher.id, item.key, docs.map((d) => d.name));
  docs.forEach((doc, index) => {
    const scenario = route(doc);
    if (!scenario) unrouted.push(doc.name);
    else routed.push({ doc, scenario, blob: blobs[index]! });
  });
  if (unrouted.length > 0 || routed.length === 0) return { status: 'unrouted', documents: unrouted };

  let written = 0;
  for (const r of routed) {
    if (opts.resumed && (await store.locate(r.blob))) continue;
    const result = await store.putIfAbsent(
      'staging',
      r.blob,
      await r.doc.open(),
      (size, sha256) => ({
        ...encodeDocumentFacts(r.doc.metadata),
        ...encodeMetadata({
          launcherId: launcher.id,
          sourceKey: item.key,
          fileName: r.doc.name,
          waitdir: r.scenario.waitdir,
          job: r.scenario.job,
          sha256,
          size,
          stagedAt: opts.now.toISOString(),
          attempts: 0,
        }),
      }),
      r.doc.contentType,
    );
    if (!result.created) continue;
    written++;
    failpoint('after-stage');
    opts.log.info(`staged "${r.doc.name}" for ${r.scenario.waitdir}${r.scenario.job ? ` (job ${r.scenario.job})` : ''}`, {
      fileName: r.doc.name,
      blob: r.blob,
      size: result.size,
      waitdir: r.scenario.waitdir,
      job: r.scenario.job,
    });
  }
  return { status: 'staged', blobs: routed.map((r) => r.blob), written, complete: written === routed.length };
}
