import type { EnvelopeMetadata } from './metadata';

/** EzGED's grouping keys for Adullact envelopes: the scenario `group` of each type. */
export type EnvelopeType = 'acte_nature' | 'helios' | 'chorus_fact';

/**
 * The group of the documents of an envelope whose type is not recognised: matches no
 * scenario group (those are non-empty), so the launcher's default scenario takes them,
 * or, without a default, the envelope stays at the source and is reported.
 */
export const UNRECOGNISED_GROUP = '';

/** What EzGED's admin and the index call each type. */
export const TYPE_LABELS: Record<EnvelopeType, string> = {
  acte_nature: 'Actes (collectivité ↔ Préfecture)',
  helios: 'Helios PES V2 (collectivité ↔ Trésorerie)',
  chorus_fact: 'Chorus Pro (collectivité ↔ fournisseur)',
};

/** The tell-tale fields of each type (text or file fields), from Pastell's flow definitions. */
export const TELL_TALE_FIELDS: Record<EnvelopeType, readonly string[]> = {
  acte_nature: ['acte_nature', 'numero_de_lacte', 'arrete', 'aractes', 'classification', 'type_acte', 'date_de_lacte'],
  helios: ['fichier_pes', 'fichier_reponse', 'etat_ack', 'id_coll', 'cod_bud', 'fichier_pes_signe', 'id_bordereau'],
  chorus_fact: [
    'id_facture_cpp', 'fichier_facture', 'fichier_facture_pdf', 'facture_pj_01', 'facture_pj_02', 'no_facture',
    'numero_facture', 'identifiant_facture_cpp', 'syntaxe_flux_in', 'montant_ttc', 'montant_a_payer',
  ],
};

/** Pastell flow names (glaneur `<flux type>`) → type. */
const FLUX_PREFIXES: [string, EnvelopeType][] = [
  ['actes-', 'acte_nature'],
  ['helios-', 'helios'],
  ['facture-', 'chorus_fact'],
];

export type Recognition =
  | { type: EnvelopeType; matched: string[] }
  | { type: undefined; reason: string };

/**
 * Recognises the type of an envelope from its metadata: the metadata never names the
 * flow, so the type whose tell-tale fields are the most present wins. A glaneur manifest's
 * `<flux type>` decides when given. A tie or no tell-tale field at all: not recognised.
 */
export function recogniseType(metadata: EnvelopeMetadata | undefined): Recognition {
  if (!metadata) return { type: undefined, reason: 'no metadata file in the envelope' };
  const flux = metadata.fluxType?.toLowerCase();
  const byFlux = flux ? FLUX_PREFIXES.find(([prefix]) => flux.startsWith(prefix))?.[1] : undefined;
  if (byFlux) return { type: byFlux, matched: [`flux type ${metadata.fluxType}`] };

  const present = new Set([...Object.keys(metadata.data), ...metadata.files.map((f) => f.field)]);
  const scores = (Object.keys(TELL_TALE_FIELDS) as EnvelopeType[])
    .map((type) => ({ type, matched: TELL_TALE_FIELDS[type].filter((f) => present.has(f)) }))
    .sort((a, b) => b.matched.length - a.matched.length);
  const [best, second] = scores;
  if (best.matched.length === 0) return { type: undefined, reason: 'none of the Actes, Helios or Chorus fields is present' };
  if (second.matched.length === best.matched.length) {
    return { type: undefined, reason: `ambiguous: as many ${best.type} fields (${best.matched.join(', ')}) as ${second.type} fields (${second.matched.join(', ')})` };
  }
  return { type: best.type, matched: best.matched };
}
