import { extensionOf } from './safeName';

/** A COLD scenario: where documents of one group go. */
export interface Scenario {
  /** Extension (`pdf`) or Adullact envelope type (`chorus_fact`); absent = default. */
  group?: string;
  /** EzGED reference job id, for information and logs. */
  job?: string;
  /** The COLD's waiting folder (`ocr/wait/<waitdir>`). */
  waitdir: string;
  description?: string;
}

/** Chooses the scenario of a document, or undefined when none applies (document not taken). */
export type Router = (doc: { name: string; group?: string }) => Scenario | undefined;

/**
 * Builds the router of a launcher: the document's group (its envelope type when the
 * source gives one, else its extension) is matched case-insensitively; the scenario
 * without group is the default.
 */
export function createRouter(scenarios: readonly Scenario[]): Router {
  const byGroup = new Map<string, Scenario>();
  let fallback: Scenario | undefined;
  for (const s of scenarios) {
    if (s.group === undefined || s.group === '') fallback ??= s;
    else byGroup.set(normalizeGroup(s.group), s);
  }
  return (doc) => {
    const group = doc.group ?? extensionOf(doc.name);
    return byGroup.get(normalizeGroup(group)) ?? fallback;
  };
}

export function normalizeGroup(group: string): string {
  return group.trim().replace(/^\./, '').toLowerCase();
}
