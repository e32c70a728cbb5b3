import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { GraphClient, type TokenProvider } from '../../../shared/sources/o365/graphClient';
import { msalNetworkClient } from '../../../shared/sources/o365/msalNetwork';
import { createTransport, type Transport } from '../../../shared/sources/o365/transport';
import { createLogger } from '../../../shared/util/log';
import { opensslAvailable } from '../../fakes/entraFake';
import { startFakeMicrosoftCloud } from '../../fakes/graphFake';

const MAILBOX = 'ged-facture@contoso.fr';
const skip = opensslAvailable() ? false : 'needs openssl to make the fakes\' certificate';

describe('GraphClient against the Graph fake', { skip }, () => {
  let dir: string;
  let cloud: Awaited<ReturnType<typeof startFakeMicrosoftCloud>>;
  let transport: Transport;
  let tokens: TokenProvider & { calls: boolean[] };
  const slept: number[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'o365-gc-'));
    cloud = await startFakeMicrosoftCloud(dir, {
      tenantId: 'contoso.fr',
      apps: [{ clientId: 'app', secret: 'secret-1', roles: ['Mail.ReadWrite'] }],
      users: [],
      mailboxes: [{ address: MAILBOX }],
    });
    transport = createTransport({ rejectUnauthorized: true, ca: cloud.cert.certPem }, 10_000);
  });
  after(async () => {
    transport?.close();
    await cloud?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function client(): Promise<GraphClient> {
    const app = new ConfidentialClientApplication({
      auth: { clientId: 'app', clientSecret: 'secret-1', authority: `${cloud.entra.url}/contoso.fr`, knownAuthorities: [new URL(cloud.entra.url).host] },
      system: { networkClient: msalNetworkClient(transport) },
    });
    const calls: boolean[] = [];
    tokens = {
      calls,
      async getToken(force) {
        calls.push(!!force);
        return (await app.acquireTokenByClientCredential({ scopes: [`${cloud.graph.url}/.default`], skipCache: !!force }))!.accessToken;
      },
    };
    slept.length = 0;
    return new GraphClient({ graphEndpoint: cloud.graph.url, transport, tokens, logger: createLogger(() => undefined), sleep: async (ms) => {
      slept.push(ms);
      cloud.graph.advanceClock(ms); // the wait is simulated on both sides
    } });
  }

  test('429 with Retry-After: waits exactly what Graph asks, then succeeds', async () => {
    const graph = await client();
    cloud.graph.fail({ match: /mailFolders\/inbox/, status: 429, retryAfterSeconds: 2, count: 2 });
    cloud.graph.fail({ match: /mailFolders\/archive/, status: 503, retryAfterSeconds: 1, count: 1 });
    const inbox = await graph.getJson<{ displayName: string }>(`/users/${MAILBOX}/mailFolders/inbox`);
    assert.equal(inbox.displayName, 'Inbox');
    assert.deepEqual(slept, [2000, 2000]);
    assert.deepEqual(cloud.graph.violations, [], 'no retry came before Retry-After had elapsed');
    await graph.getJson(`/users/${MAILBOX}/mailFolders/archive`);
    assert.deepEqual(slept, [2000, 2000, 1000]);
  });

  test('bounded: still throttled after the retries is a typed error with Graph\'s code and request id', async () => {
    const graph = await client();
    cloud.graph.fail({ match: /mailFolders\/drafts/, status: 429, retryAfterSeconds: 0, count: 50 });
    await assert.rejects(graph.getJson(`/users/${MAILBOX}/mailFolders/drafts`), (err: Error & { code?: string; status?: number; graphCode?: string; requestId?: string }) => {
      assert.equal(err.code, 'GRAPH_THROTTLED');
      assert.equal(err.status, 429);
      assert.equal(err.graphCode, 'TooManyRequests');
      assert.ok(err.requestId);
      assert.match(err.message, /still HTTP 429 after 5 retries/);
      return true;
    });
    assert.equal(slept.length, 5);
    cloud.graph.clearFaults();
  });

  test('a refused token is renewed once; other errors are not retried', async () => {
    const graph = await client();
    cloud.graph.fail({ match: /mailFolders\/sentitems/, status: 401, count: 1 });
    await graph.getJson(`/users/${MAILBOX}/mailFolders/sentitems`);
    assert.deepEqual(tokens.calls, [false, true]);
    await assert.rejects(graph.getJson(`/users/${MAILBOX}/mailFolders/nosuchfolder`), { code: 'GRAPH_NOT_FOUND', status: 404 });
    await assert.rejects(graph.getJson('/me/mailFolders/inbox'), /HTTP 400: BadRequest: \/me request is only valid with delegated authentication flow/);
    assert.deepEqual(slept, []);
  });

  test('a link to another host is refused: the token goes to the Graph endpoint only', async () => {
    const graph = await client();
    await assert.rejects(graph.getJson('https://evil.example/v1.0/me/messages'), { code: 'GRAPH_FOREIGN_LINK' });
  });

  test('a $value stream cut short fails instead of ending quietly', async () => {
    const graph = await client();
    const id = cloud.graph.addMessage(MAILBOX, 'inbox', {
      subject: 'coupé',
      attachments: [{ kind: 'file', name: 'a.pdf', contentType: 'application/pdf', content: Buffer.alloc(200_000, 7) }],
    });
    const list = await graph.getJson<{ value: { id: string }[] }>(`/users/${MAILBOX}/messages/${id}/attachments?$select=id,name`);
    const path = `/users/${MAILBOX}/messages/${id}/attachments/${list.value[0]!.id}/$value`;
    cloud.graph.truncateNext(/\$value$/);
    const stream = await graph.getStream(path);
    await assert.rejects(async () => {
      for await (const _ of stream);
    });
    let total = 0;
    for await (const chunk of await graph.getStream(path)) total += (chunk as Buffer).length;
    assert.equal(total, 200_000);
  });
});
