import type { BlobStore } from './blobStore';
import { launcherStateBlobName } from './blobNames';

/** What a launcher remembers between runs. Sources keep their own part under `source`. */
export interface LauncherState {
  lastRunAt?: string;
  source: Record<string, unknown>;
}

export async function loadLauncherState(store: BlobStore, launcherId: string): Promise<LauncherState> {
  const found = await store.readJson<LauncherState>('state', launcherStateBlobName(launcherId));
  return { source: {}, ...found?.value };
}

export async function saveLauncherState(store: BlobStore, launcherId: string, state: LauncherState): Promise<void> {
  await store.writeJson('state', launcherStateBlobName(launcherId), state);
}
