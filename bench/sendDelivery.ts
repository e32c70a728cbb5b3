import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Readable } from 'node:stream';
import { parseConfig } from '../shared/config/load';
import { deliverAll, DEFAULT_DELIVERY_CONCURRENCY } from '../shared/delivery/deliverAll';
import { createTarget } from '../shared/runtime/createTarget';
import { BlobStore } from '../shared/staging/blobStore';
import { encodeMetadata } from '../shared/staging/metadata';
import { mapConcurrent } from '../shared/util/concurrency';
import { silentLogger } from '../shared/util/log';
import { startEzgedDouble } from '../test/fakes/ezgedDouble';
import { BENCH_EZGED_LOGIN as LOGIN, BENCH_EZGED_PASSWORD as PASSWORD } from './ezgedAccount';
import { sideBySide, type Pair } from './stats';

const TOKEN = 'c3e335143464469a1ca542c21147f913';

/**
 * staged documents → EzGED double over pupload, against raw multipart uploads of the same
 * bytes with the same concurrency and one session. `baseline: 'staging'` reads each
 * document from the staging container first (the least any sender must do);
 * `'memory'` uploads bytes already in memory (no storage at all).
 */
export async function sendDelivery(o: {
  docs: number;
  size: number;
  rounds: number;
  connectionString: string;
  baseline: 'staging' | 'memory';
  /** The double answers each upload this much later (a real EzGED's PHP takes its time), for both sides. */
  uploadDelayMs?: number;
}): Promise<Pair & { docs: number }> {
  const double = await startEzgedDouble({ accounts: [{ login: LOGIN, password: PASSWORD }], token: TOKEN, waitdirs: ['w'], storeFiles: false, sessionIdleMs: 600_000, maxSessions: 1000 });
  if (o.uploadDelayMs) double.inject({ kind: 'slow', on: 'upload', delayMs: o.uploadDelayMs, times: Number.MAX_SAFE_INTEGER });
  const store = BlobStore.fromConnectionString(o.connectionString);
  const payloads = Array.from({ length: o.docs }, () => randomBytes(o.size));
  const ezged = parseConfig(
    JSON.stringify({ ezged: { url: double.url, login: LOGIN, password: PASSWORD, allowInsecureHttp: true }, launchers: [] }),
    {},
  ).ezged;
  try {
    const prepare = async () => {
      for await (const c of store.service.listContainers()) await store.service.deleteContainer(c.name);
      await store.ensureContainers();
      await mapConcurrent(payloads.keys(), 8, async (i) => {
        await store.putIfAbsent('staging', `bench/${i}/doc-${i}.pdf`, Readable.from([payloads[i]!]), (size, sha256) =>
          encodeMetadata({ launcherId: 'bench', sourceKey: String(i), fileName: `doc-${i}.pdf`, waitdir: 'w', sha256, size, stagedAt: new Date().toISOString(), attempts: 0 }),
        );
      });
    };
    const ours = async () => {
      const target = createTarget(ezged, { sessionScope: 'target' });
      try {
        const r = await deliverAll(store, target, silentLogger, { maxAttempts: 3, concurrency: DEFAULT_DELIVERY_CONCURRENCY });
        if (r.delivered !== o.docs) throw new Error(`delivered ${r.delivered} of ${o.docs}`);
      } finally {
        await target.close();
      }
    };
    const baseline = () =>
      rawUploads(double.url, payloads.length, DEFAULT_DELIVERY_CONCURRENCY, async (i) =>
        o.baseline === 'memory' ? payloads[i]! : store.container('staging').getBlobClient(`bench/${i}/doc-${i}.pdf`).downloadToBuffer(),
      );
    const pair = await sideBySide(o.rounds, prepare, baseline, ours);
    return { ...pair, docs: o.docs };
  } finally {
    await double.stop();
  }
}

async function rawUploads(base: string, count: number, concurrency: number, bytes: (i: number) => Promise<Buffer>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const md5 = createHash('md5').update(PASSWORD).digest('hex');
  const login = await call(agent, `${base}/data/service.php?service=sec/authenticate&login=${LOGIN}&pwd=${md5}`, 'GET');
  const sessionid = (JSON.parse(login.body) as { rows: { sessionid: string } }).rows.sessionid;
  const cookie = login.cookie;
  await mapConcurrent(Array.from({ length: count }, (_, i) => i), concurrency, async (i) => {
    const payload = await bytes(i);
    const boundary = `----bench${i}`;
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="raw-${i}.pdf"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const body = Buffer.concat([head, payload, tail]);
    const url = `${base}/data/pupload.php?token=${TOKEN}&sessionid=${sessionid}&mode=cold&waitdir=w&name=raw-${i}.pdf`;
    const res = await call(agent, url, 'POST', body, { 'content-type': `multipart/form-data; boundary=${boundary}`, cookie });
    if (!res.body.includes('"success":true')) throw new Error(`raw upload failed: ${res.body}`);
  });
  await call(agent, `${base}/data/service.php?service=secses/delete&sessionid=${sessionid}&secsesid=${sessionid}`, 'GET', undefined, { cookie });
  agent.destroy();
}

function call(agent: Agent, url: string, method: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ body: string; cookie: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ body: Buffer.concat(chunks).toString(), cookie: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ') || headers.cookie || '' }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
