import { compactFacts, defined, entriesOf, field, type DecodeContext, type Decoded, type EnvelopeEntry } from './decoded';
import { readHead, readSmall } from './envelopeReader';
import { MAX_XML_BYTES, attr, child, children, parseXml, rootOf, text, type XmlNode } from './xml';

/** `acte_nature` codes (Actes v1.1). */
export const ACTE_NATURES: Record<string, string> = {
  '1': 'Délibérations',
  '2': 'Actes réglementaires',
  '3': 'Actes individuels',
  '4': 'Contrats, conventions et avenants',
  '5': 'Documents budgétaires et financiers',
  '6': 'Autres',
};

/** Namespace of the Actes v1.1 XML envelope, looked for at the start of XML files. */
const ACTES_NAMESPACE = 'interieur.gouv.fr/ACTES';
const SNIFF_BYTES = 4096;

/** What an `actes:Acte` (or the `actes:ActeRecu` of an acknowledgement) says. */
export interface ActeXml {
  date?: string;
  numeroInterne?: string;
  codeNatureActe?: string;
  codesMatiere: string[];
  objet?: string;
  classificationDateVersion?: string;
  document?: string;
  annexes: string[];
  nombreAnnexes?: string;
}

/**
 * Actes (collectivité ↔ Préfecture): nature, number, object, date and classification
 * from the metadata, completed by the Actes XML envelope or its acknowledgement
 * (`aractes`) when the envelope holds one. The nature is never guessed from file names.
 */
export async function decodeActes(ctx: DecodeContext): Promise<Decoded> {
  const warnings: string[] = [];
  let acte: ActeXml | undefined;
  let ar: { file: string; idActe?: string; dateReception?: string } | undefined;

  for (const entry of await actesXmlEntries(ctx)) {
    const doc = parseXml(await readSmall(ctx.reader, entry.path, MAX_XML_BYTES, `${ctx.label}/${entry.path}`), `${ctx.label}/${entry.path}`);
    const root = rootOf(doc);
    if (root?.name === 'ARActe') {
      ar = defined({ file: entry.name, idActe: attr(root.node, 'IDActe'), dateReception: attr(root.node, 'DateReception') }) as typeof ar;
      acte ??= readActe(child(root.node, 'ActeRecu'));
    } else if (root?.name === 'Acte') {
      acte = readActe(root.node);
    } else {
      warnings.push(`${entry.name}: <${root?.name ?? '?'}> is not an Actes envelope or acknowledgement`);
    }
  }

  const nature = field(ctx, 'acte_nature') ?? acte?.codeNatureActe;
  const natureLabel = nature ? ACTE_NATURES[nature] : undefined;
  if (nature && !natureLabel) warnings.push(`unknown acte_nature "${nature}"`);
  const numero = field(ctx, 'numero_de_lacte') ?? acte?.numeroInterne;
  const objet = field(ctx, 'objet') ?? acte?.objet;
  const date = field(ctx, 'date_de_lacte') ?? acte?.date;
  const classification = field(ctx, 'classification') ?? (acte?.codesMatiere.length ? acte.codesMatiere.join('.') : undefined);
  const names = (f: string) => entriesOf(ctx, f).map((e) => e.name);

  return {
    facts: compactFacts({
      acte_nature: nature,
      acte_nature_libelle: natureLabel,
      numero_acte: numero,
      objet,
      date_acte: date,
      classification,
      type_acte: field(ctx, 'type_acte'),
      id_acte: ar?.idActe,
      date_ar: field(ctx, 'date_ar') ?? ar?.dateReception,
    }),
    details: defined({
      nature: nature ? defined({ code: nature, libelle: natureLabel }) : undefined,
      numero,
      objet,
      date,
      classification,
      typeActe: field(ctx, 'type_acte'),
      acte: names('arrete'),
      annexes: names('autre_document_attache'),
      acteTamponne: names('acte_tamponne'),
      annexesTamponnees: names('annexes_tamponnees'),
      bordereau: names('bordereau'),
      accuseReception: ar ? { ...ar, dateAr: field(ctx, 'date_ar') } : names('aractes').length ? { file: names('aractes')[0] } : undefined,
      transactionTedetis: field(ctx, 'tedetis_transaction_id'),
      acteXml: acte ? defined({ ...acte }) : undefined,
    }),
    extra: [],
    warnings,
  };
}

/** The acknowledgement files, then any other XML file that declares the Actes namespace. */
async function actesXmlEntries(ctx: DecodeContext): Promise<EnvelopeEntry[]> {
  const out = entriesOf(ctx, 'aractes').filter((e) => e.path !== ctx.metadata?.file);
  for (const e of ctx.entries) {
    if (out.includes(e) || e.path === ctx.metadata?.file || !/\.xml$/i.test(e.path)) continue;
    const head = (await readHead(ctx.reader, e.path, SNIFF_BYTES)).toString('latin1');
    if (head.includes(ACTES_NAMESPACE) && /<(\w+:)?(Acte|ARActe)[\s>]/.test(head)) out.push(e);
  }
  return out;
}

function readActe(node: XmlNode | undefined): ActeXml | undefined {
  if (!node) return undefined;
  const codesMatiere: string[] = [];
  for (let i = 1; i <= 5; i++) {
    const code = attr(node, 'CodeMatiere', `CodeMatiere${i}`);
    if (code) codesMatiere.push(code);
  }
  const annexes = child(node, 'Annexes');
  return {
    date: attr(node, 'Date'),
    numeroInterne: attr(node, 'NumeroInterne'),
    codeNatureActe: attr(node, 'CodeNatureActe'),
    codesMatiere,
    objet: text(node, 'Objet'),
    classificationDateVersion: text(node, 'ClassificationDateVersion'),
    document: text(node, 'Document', 'NomFichier'),
    nombreAnnexes: attr(annexes, 'Nombre'),
    annexes: children(annexes, 'Annexe').map((a) => text(a, 'NomFichier')).filter((n): n is string => !!n),
  };
}
