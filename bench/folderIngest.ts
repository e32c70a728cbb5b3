import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../shared/config/load';
import { runLauncher } from '../shared/launch/runLauncher';
import { settleWhenStaged } from '../shared/launch/settlement';
import { BlobStore } from '../shared/staging/blobStore';
import { mapConcurrent } from '../shared/util/concurrency';
import { silentLogger } from '../shared/util/log';
import { FOLDER_CONCURRENCY } from '../shared/sources/folder/folderSource';
import { sideBySide, type Pair } from './stats';

export interface FolderIngestOptions {
  files: number;
  fileSize: number;
  rounds: number;
  workDir: string;
  connectionString: string;
}

/**
 * folder → staged blobs, against a plain loop that reads each file and uploads it to
 * Azurite with the same SDK and the same concurrency.
 */
export async function folderIngest(o: FolderIngestOptions): Promise<Pair & { docs: number }> {
  const source = join(o.workDir, 'source');
  const payloads = Array.from({ length: o.files }, () => randomBytes(o.fileSize));
  const store = BlobStore.fromConnectionString(o.connectionString);
  const launcher = parseConfig(
    JSON.stringify({
      ezged: { dropFolder: join(o.workDir, 'wait') },
      launchers: [{ id: 'bench', protocol: 'folder', source, delaySeconds: 0, maxItemsPerRun: o.files, scenarios: [{ waitdir: 'w' }] }],
    }),
    {},
  ).launchers[0]!;

  const prepare = async () => {
    await rm(source, { recursive: true, force: true });
    await mkdir(source, { recursive: true });
    await Promise.all(payloads.map((p, i) => writeFile(join(source, `doc-${String(i).padStart(5, '0')}.pdf`), p)));
    for await (const c of store.service.listContainers()) await store.service.deleteContainer(c.name);
    await store.ensureContainers();
    await store.service.getContainerClient('baseline').createIfNotExists();
  };
  const baseline = async () => {
    const container = store.service.getContainerClient('baseline');
    const names = await readdir(source);
    await mapConcurrent(names, FOLDER_CONCURRENCY, async (name) => {
      const data = await readFile(join(source, name));
      await container.getBlockBlobClient(name).upload(data, data.length);
    });
  };
  const ours = async () => {
    const report = await runLauncher(launcher, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true });
    if (report.staged !== o.files) throw new Error(`staged ${report.staged} of ${o.files}: ${report.error ?? ''}`);
  };
  const pair = await sideBySide(o.rounds, prepare, baseline, ours);
  return { ...pair, docs: o.files };
}
