/** App settings the product reads (Bicep and local.settings.json.example declare each). */
export const SETTINGS = {
  /** Storage connection (connection string), as the Functions host uses it. */
  storage: 'AzureWebJobsStorage',
  /** Launcher definitions: a file path, or `blob:<container>/<name>` (default: blob:config/launchers.json). */
  launchersConfig: 'LAUNCHERS_CONFIG',
  /** Days delivered documents stay in the archive container (the CLI purges; Azure uses a lifecycle rule). */
  archiveRetentionDays: 'ARCHIVE_RETENTION_DAYS',
  /** Uploads in flight at once when staging is drained: coldRetry in Azure (Bicep app setting), and the CLI's run. */
  deliveryConcurrency: 'DELIVERY_CONCURRENCY',
} as const;

export const DEFAULT_LAUNCHERS_BLOB = 'blob:config/launchers.json';
export const DEFAULT_ARCHIVE_RETENTION_DAYS = 30;

export function intSetting(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`app setting ${name} must be a whole number, got "${value}"`);
  return n;
}
