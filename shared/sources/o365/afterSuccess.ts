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
/** Graph's message-move: `destinationId` is a folder id or a well-known folder name. */
const moveMessage = (ctx: CompletionContext, id: string, destinationId: string) =>
  unlessGone(ctx.graph.send('POST', `${messagePath(ctx, id)}/move`, { destinationId }));

/** A message that is already gone (moved or deleted by someone) needs nothing more. */
async function unlessGone(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (err) {
    if (!(err instanceof GraphRequestError && err.status === 404)) throw err;
  }
}

/**
 * Where `delete` puts a message: Deleted Items, as Outlook's Delete does (a person finds it
 * there). Not Graph's `DELETE /messages/{id}`: its reference does not say Deleted Items
 * (learn.microsoft.com/graph/api/message-delete; microsoftgraph/microsoft-graph-docs-contrib#285
 * asks which delete it is), and such messages are found in Recoverable Items, not in
 * Deleted Items (microsoft/work-iq#94, microsoftgraph/msgraph-sdk-powershell#3265).
 * `move` takes a well-known folder name as destinationId (message-move reference).
 */
const DELETED_ITEMS_FOLDER = 'deleteditems';

const STRATEGIES = new Map<string, CompletionFactory>([
  ['read', (ctx) => (id) => unlessGone(ctx.graph.send('PATCH', messagePath(ctx, id), { isRead: true }))],
  ['delete', (ctx) => (id) => moveMessage(ctx, id, DELETED_ITEMS_FOLDER)],
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
        await moveMessage(ctx, id, destinationId);
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
