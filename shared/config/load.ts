import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors';
import { configSchema, type ColdConfig } from './schema';
import { resolveSettings, type Settings } from './settings';

/**
 * Parses, resolves `%SETTING%` references in, and validates launcher definitions.
 * Throws one ConfigError listing every problem as `launchers[<id>].<field>: <why>`.
 */
export function parseConfig(text: string, settings: Settings, origin = 'launcher definitions'): ColdConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ path: '(file)', message: `not valid JSON: ${(err as Error).message}` }], origin);
  }
  const locate = locator(raw);
  const { value, problems } = resolveSettings(raw, settings, locate);
  const result = configSchema.safeParse(value);
  if (!result.success) {
    // A missing setting already explains why its field is empty: say it once.
    const explained = new Set(problems.map((p) => p.path));
    problems.push(...result.error.issues.flatMap((i) => toProblems(i, locate)).filter((p) => !explained.has(p.path)));
  }
  problems.push(...duplicateIds(raw));
  if (problems.length > 0 || !result.success) throw new ConfigError(dedupe(problems), origin);
  return result.data;
}

export async function loadConfigFile(path: string, settings: Settings): Promise<ColdConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '(file)', message: `cannot read ${path}: ${(err as Error).message}` }], path);
  }
  return parseConfig(text, settings, path);
}

/** Turns a schema path into `launchers[<id>].field[2].sub`, using each launcher's own id. */
function locator(raw: unknown): (path: readonly PropertyKey[]) => string {
  const launchers = (raw as { launchers?: unknown[] } | null)?.launchers;
  return (path) => {
    let out = '';
    path.forEach((seg, i) => {
      if (i === 1 && path[0] === 'launchers' && typeof seg === 'number') {
        const id = (Array.isArray(launchers) ? (launchers[seg] as { id?: unknown })?.id : undefined) ?? `#${seg}`;
        out += `[${String(id)}]`;
      } else if (typeof seg === 'number') out += `[${seg}]`;
      else out += (out ? '.' : '') + String(seg);
    });
    return out || '(root)';
  };
}

function toProblems(issue: z.core.$ZodIssue, locate: (p: readonly PropertyKey[]) => string): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ path: locate([...issue.path, k]), message: 'unknown field' }));
  }
  if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
    return [{ path: locate(issue.path), message: 'required' }];
  }
  return [{ path: locate(issue.path), message: issue.message }];
}

function duplicateIds(raw: unknown): ConfigProblem[] {
  const launchers = (raw as { launchers?: unknown[] } | null)?.launchers;
  if (!Array.isArray(launchers)) return [];
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const l of launchers) {
    const id = (l as { id?: unknown })?.id;
    if (id === undefined) continue;
    if (seen.has(String(id))) problems.push({ path: `launchers[${String(id)}].id`, message: 'duplicate id: launcher ids must be unique' });
    seen.add(String(id));
  }
  return problems;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const keys = new Set<string>();
  return problems.filter((p) => !keys.has(p.path + p.message) && keys.add(p.path + p.message));
}
