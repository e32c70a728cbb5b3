import { openSource } from '../../shared/sources';
import type { Source, SourceDocument, SourceItem } from '../../shared/sources/types';

/**
 * `openSource`, except that each source's `documents(item)` goes through `wrap`, given the
 * source's own (to act before a message is read, to change the item or the documents).
 */
export function withDocuments(wrap: (item: SourceItem, documents: Source['documents']) => Promise<SourceDocument[]>): typeof openSource {
  return async (ctx) => {
    const source = await openSource(ctx);
    return { ...source, documents: (item) => wrap(item, (i) => source.documents(i)) };
  };
}

/**
 * `openSource`, except that a document named `name` cannot be staged (reading it fails, as
 * when storage refuses it) until `healed()` says so; every other document goes through.
 */
export function refusingUntilHealed(name: string, healed: () => boolean): typeof openSource {
  return withDocuments(async (item, documents) =>
    (await documents(item)).map((doc) =>
      doc.name !== name || healed()
        ? doc
        : {
            ...doc,
            open: async () => {
              (await doc.open()).destroy();
              throw new Error(`simulated: ${name} refused`);
            },
          },
    ),
  );
}
