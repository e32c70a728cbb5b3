import type { Settings } from '../../config/settings';
import { describeError } from '../../errors';
import { redact } from '../../util/secrets';
import { parseSchedule } from '../../schedule/ezgedSchedule';
import { openSource } from '../../sources';
import type { Logger } from '../../util/log';
import { table } from '../output';
import { openSession } from '../session';

/**
 * `cold-launcher check`: validates the definitions (a ConfigError exits with 2 before
 * this runs), then tries each source and the EzGED target. Prints no secret value.
 */
export async function checkCommand(flags: { config?: string }, settings: Settings, logger: Logger, out: (line: string) => void): Promise<number> {
  const session = await openSession({ config: flags.config }, settings, logger);
  let failures = 0;
  try {
    const rows = [['LAUNCHER', 'PROTOCOL', 'SOURCE', 'RESULT']];
    for (const launcher of session.config.launchers) {
      const where = 'server' in launcher ? `${launcher.server}:${launcher.port}` : ('source' in launcher && launcher.source) || '';
      let result = launcher.enabled ? 'ok' : 'ok (disabled)';
      const spent = launcher.schedule.filter((row) => !parseSchedule([row], session.config.timezone).next(new Date()));
      if (spent.length > 0) result += `; warning: no occurrence left for schedule ${spent.map((r) => `"${r}"`).join(', ')}`;
      try {
        const source = await openSource({ launcher, state: {}, logger, now: () => new Date(), store: session.store, settings });
        await source.close();
      } catch (err) {
        failures++;
        result = redact(`FAILED: ${describeError(err)}`);
      }
      rows.push([launcher.id, launcher.protocol, where, result]);
    }
    const waitdirs = session.config.launchers.flatMap((l) => l.scenarios.map((s) => s.waitdir));
    let targetResult = 'ok';
    try {
      await session.target().probe(waitdirs);
    } catch (err) {
      failures++;
      targetResult = redact(`FAILED: ${describeError(err)}`);
    }
    rows.push(['ezged', 'target', session.target().description, targetResult]);
    out(`Definitions: ${session.configPath}: valid, ${session.config.launchers.length} launcher(s)`);
    out(table(rows));
    return failures > 0 ? 1 : 0;
  } finally {
    await session.close();
  }
}
