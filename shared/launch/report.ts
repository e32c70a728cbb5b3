/** What one run of one launcher did; the CLI sums these for its summary line. */
export interface LaunchReport {
  launcherId: string;
  protocol: string;
  /** False when the schedule said "not now" (or the launcher is disabled). */
  ran: boolean;
  /** Items ready to take. */
  found: number;
  /** Documents newly written to staging. */
  staged: number;
  /** Items found already staged by an earlier run (a crash, or delivered-mode pending). */
  alreadyStaged: number;
  /** Items acknowledged at the source (deleted, moved, marked). */
  acknowledged: number;
  /** Items staged but kept at the source until their documents are delivered. */
  pendingAcknowledgement: number;
  waiting: number;
  filtered: number;
  skipped: number;
  /** Items left at the source because a document matched no scenario. */
  unrouted: number;
  putAside: number;
  /** Items that failed this time (left at the source for the next run). */
  failed: number;
  /** Set when the launcher could not run at all (source unreachable...). */
  error?: string;
}

export function emptyReport(launcherId: string, protocol: string): LaunchReport {
  return {
    launcherId, protocol, ran: false, found: 0, staged: 0, alreadyStaged: 0, acknowledged: 0,
    pendingAcknowledgement: 0, waiting: 0, filtered: 0, skipped: 0, unrouted: 0, putAside: 0, failed: 0,
  };
}
