import type { GraphClient } from './graphClient';
import { GraphRequestError } from './errors';
import { resolveFolder } from './mailbox';

/** What happens to a message once all its documents are safe; chosen by name, like Camel's completions. */
export type Completion = (messageId: string) => Promise<void>;

interface CompletionContext {
  graph: GraphClient;
  mailbox: string;
}

type CompletionFactory = (ctx: CompletionContext, argument: string, what?: string) => Completion;

const messagePath = (ctx: CompletionContext, id: string) => `${ctx.mailbox}/messages/${encodeURIComponent(id)}`;

/** A message that is already gone (moved or deleted by someone) needs nothing more. */
async function unlessGone(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (err) {
    if (!(err instanceof GraphRequestError && err.status === 404)) throw err;
  }
}

const STRATEGIES = new Map<string, CompletionFactory>([
  ['read', (ctx) => (id) => unlessGone(ctx.graph.send('PATCH', messagePath(ctx, id), { isRead: true }))],
  // Graph's DELETE moves the message to Deleted Items (recoverable), as Outlook does.
  ['delete', (ctx) => (id) => unlessGone(ctx.graph.send('DELETE', messagePath(ctx, id)))],
  [
    'move',
    (ctx, folderPath, what = 'afterSuccess folder') => {
      let destination: Promise<string> | undefined;
      return async (id) => {
        destination ??= resolveFolder(ctx.graph, ctx.mailbox, folderPath, what).then((f) => f.id);
        const destinationId = await destination.catch((err) => {
          destination = undefined;
          throw err;
        });
        await unlessGone(ctx.graph.send('POST', `${messagePath(ctx, id)}/move`, { destinationId }));
      };
    },
  ],
]);

/** `read` | `delete` | `move:<folder>` (a path or well-known name in the same mailbox). */
export function completionFor(afterSuccess: string, ctx: CompletionContext): Completion {
  const [name, ...rest] = afterSuccess.split(':');
  const factory = STRATEGIES.get(name!);
  if (!factory) throw new Error(`unknown afterSuccess "${afterSuccess}"`);
  return factory(ctx, rest.join(':'));
}

/** Moves a message that can never be taken into `folderPath` (the launcher's failedFolder). */
export function moveTo(folderPath: string, ctx: CompletionContext): Completion {
  return STRATEGIES.get('move')!(ctx, folderPath, 'failedFolder');
}
