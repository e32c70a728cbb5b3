import { openSource } from '../../shared/sources';

/**
 * `openSource`, except that a document named `name` cannot be staged (reading it fails, as
 * when storage refuses it) until `healed()` says so; every other document goes through.
 */
export function refusingUntilHealed(name: string, healed: () => boolean): typeof openSource {
  return async (ctx) => {
    const source = await openSource(ctx);
    return {
      ...source,
      documents: async (item) =>
        (await source.documents(item)).map((doc) =>
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
    } as typeof source;
  };
}
