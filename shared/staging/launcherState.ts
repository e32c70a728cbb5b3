import type { BlobStore } from './blobStore';
import { launcherStateBlobName } from './blobNames';

/** What a launcher remembers between runs. Sources keep their own part under `source`. */
export interface LauncherState {
  lastRunAt?: string;
  /**
   * When the last run the schedule (or a forced run) started began: follow-up looks go on
   * for at most an hour after it. Differs from `lastRunAt` only after a follow-up look.
   */
  scheduledRunAt?: string;
  /**
   * A look the last run asked for, schedule or not: items were waiting (unchanged for
   * less than `delaySeconds`, or past the batch limit) or failed. See runLauncher.
   */
  followUpAt?: string;
  /**
   * Items started but not yet acknowledged: key → ISO time first started. Written before
   * a batch is staged, so a re-run knows which items may already have documents
   * somewhere (staging, archive, failed) and looks before writing.
   */
  inflight: Record<string, string>;
  source: Record<string, unknown>;
}

/** Items stuck unacknowledged longer than this are forgotten (as archive retention). */
export const INFLIGHT_RETENTION_DAYS = 30;

export async function loadLauncherState(store: BlobStore, launcherId: string): Promise<LauncherState> {
  const found = await store.readJson<LauncherState>('state', launcherStateBlobName(launcherId));
  return { source: {}, inflight: {}, ...found?.value };
}

export async function saveLauncherState(store: BlobStore, launcherId: string, state: LauncherState): Promise<void> {
  await store.writeJson('state', launcherStateBlobName(launcherId), state);
}
