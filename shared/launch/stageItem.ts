import type { LauncherDefinition } from '../config/schema';
import type { Router, Scenario } from '../routing/scenarios';
import { documentBlobName } from '../staging/blobNames';
import type { BlobStore } from '../staging/blobStore';
import { Ledger, type ItemManifest } from '../staging/ledger';
import { encodeDocumentFacts, encodeMetadata } from '../staging/metadata';
import type { SourceDocument, SourceItem } from '../sources/types';
import { failpoint } from '../util/failpoints';
import type { Logger } from '../util/log';

export type StageResult =
  | { status: 'unrouted'; documents: string[] }
  | { status: 'staged'; manifest: ItemManifest; fresh: boolean; written: number };

interface RoutedDocument {
  doc: SourceDocument;
  scenario: Scenario;
  blob: string;
}

/**
 * Stages every document of one item, exactly once whatever crashed before:
 * 1. route each document (none may be left without a scenario, or the item stays);
 * 2. record the item's manifest in the ledger (If-None-Match);
 * 3. write each document that is nowhere yet (staging, archive, failed) with If-None-Match.
 */
export async function stageItem(
  store: BlobStore,
  launcher: LauncherDefinition,
  route: Router,
  item: SourceItem,
  docs: SourceDocument[],
  log: Logger,
  now: Date,
): Promise<StageResult> {
  const routed: RoutedDocument[] = [];
  const unrouted: string[] = [];
  docs.forEach((doc, index) => {
    const scenario = route(doc);
    if (!scenario) unrouted.push(doc.name);
    else routed.push({ doc, scenario, blob: documentBlobName(launcher.id, item.key, index, doc.name) });
  });
  if (unrouted.length > 0 || routed.length === 0) return { status: 'unrouted', documents: unrouted };

  const { manifest, existed } = await new Ledger(store).begin({
    version: 1,
    launcherId: launcher.id,
    key: item.key,
    label: item.label,
    createdAt: now.toISOString(),
    documents: routed.map((r) => ({ blob: r.blob, name: r.doc.name, waitdir: r.scenario.waitdir, job: r.scenario.job })),
  });

  failpoint('after-manifest');
  let written = 0;
  for (const r of routed) {
    if (existed && (await store.locate(r.blob))) continue;
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
          stagedAt: now.toISOString(),
          attempts: 0,
        }),
      }),
      r.doc.contentType,
    );
    if (result.created) {
      written++;
      failpoint('after-stage');
      log.info(`staged "${r.doc.name}" for ${r.scenario.waitdir}${r.scenario.job ? ` (job ${r.scenario.job})` : ''}`, {
        fileName: r.doc.name,
        blob: r.blob,
        size: result.size,
        waitdir: r.scenario.waitdir,
        job: r.scenario.job,
      });
    }
  }
  return { status: 'staged', manifest, fresh: !existed, written };
}
