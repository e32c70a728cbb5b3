import { safeFileName } from '../../routing/safeName';
import { compactFacts, defined, entriesOf, field, type DecodeContext, type Decoded, type EnvelopeEntry, type ExtraDocument } from './decoded';
import { RANGE_CHUNK_BYTES, readHead, readSmall } from './envelopeReader';
import { decodePayload, isGzipBase64 } from './payload';
import { MAX_SKELETON_BYTES, SkeletonTooLargeError, stripPayloads, type Payload } from './skeleton';
import { verifyPayloads, type PayloadToCheck } from './verifyPayloads';
import { MAX_XML_BYTES, child, children, parseXml, rootOf, text, v, type XmlNode } from './xml';

const SNIFF_BYTES = 4096;
/** PES domains holding bordereaux, and what the index calls them. */
const DOMAINS: [string, string][] = [
  ['PES_DepenseAller', 'depense'],
  ['PES_RecetteAller', 'recette'],
];
/** Other PES blocks whose presence is reported. */
const OTHER_BLOCKS = ['PES_RoleAller', 'PES_BudgetAller', 'PES_EtatActif', 'PES_Marche', 'PES_EtatPassif'];

interface Bordereau {
  domaine: string;
  exercice?: string;
  idBord?: string;
  dateEmission?: string;
  type?: string;
  nombrePieces?: string;
  montantHT?: string;
}

interface PieceJustificative {
  idUnique?: string;
  nomPJ?: string;
  typePJ?: string;
  description?: string;
  mimeType?: string;
}

/**
 * Helios (PES V2, collectivité ↔ Trésorerie): collectivité, budget, exercice and
 * bordereaux from the metadata and the PES Aller header, the acknowledgement state from
 * the PES_ACQUIT, and every pièce justificative embedded in `PES_PJ/PJ` (base64 of gzip)
 * extracted as its own document named by `NomPJ`.
 *
 * The PES is read once as a stream to strip the payloads (see skeleton.ts); each PJ is
 * decoded later from its byte range, one at a time: memory stays bounded by the skeleton.
 * (A PES in a zip is read from the temp file the zip check inflated it to, see zipReader:
 * reaching a range does not inflate the entry from its start again.)
 * Before anything is staged, a second streamed pass decodes every PJ and discards it
 * (verifyPayloads.ts): a corrupt PJ refuses the whole envelope, naming the PJ.
 */
export async function decodeHelios(ctx: DecodeContext): Promise<Decoded> {
  const warnings: string[] = [];
  const pes = await pesEntry(ctx);
  let header: Record<string, string | undefined> = {};
  let bordereaux: Bordereau[] = [];
  let blocks: string[] = [];
  const pjs: PieceJustificative[] = [];
  const extra: ExtraDocument[] = [];
  const checks: PayloadToCheck[] = [];

  if (pes) {
    const what = `${ctx.label}/${pes.path}`;
    try {
      const skeleton = await stripPayloads(await ctx.reader.open(pes.path, RANGE_CHUNK_BYTES), ['Fichier']);
      const root = rootOf(parseXml(skeleton.xml, what, MAX_SKELETON_BYTES));
      if (root?.name !== 'PES_Aller') warnings.push(`${pes.name}: root <${root?.name ?? '?'}> is not a PES_Aller`);
      else {
        header = readHeader(root.node);
        bordereaux = readBordereaux(root.node);
        blocks = OTHER_BLOCKS.filter((b) => child(root.node, b));
        for (const [position, pj] of children(child(root.node, 'PES_PJ'), 'PJ').entries()) {
          const found = readPj(ctx, pes, pj, skeleton.payloads, pjs.length, position, what);
          if (!found) {
            warnings.push(`${pes.name}: a PJ (${v(pj, 'NomPJ') ?? v(pj, 'IdUnique') ?? '?'}) has no Contenu/Fichier, nothing to extract`);
            continue;
          }
          pjs.push(found.info);
          extra.push(found.doc);
          checks.push(found.check);
        }
      }
    } catch (err) {
      if (!(err instanceof SkeletonTooLargeError)) throw err;
      warnings.push(`${pes.name}: not decoded, ${err.message}; the PES is delivered whole`);
    }
    await verifyPayloads(ctx.reader, pes.path, checks, what);
  } else warnings.push('no PES Aller file (fichier_pes) in the envelope');

  const acquit = await readAcquit(ctx, warnings);
  const exercice = field(ctx, 'exercice') ?? bordereaux.find((b) => b.exercice)?.exercice;
  const idBordereau = field(ctx, 'id_bordereau') ?? (bordereaux.length ? bordereaux.map((b) => b.idBord).filter(Boolean).join(',') : undefined);
  const etatAck = field(ctx, 'etat_ack') ?? acquit?.[0]?.etatAck;

  return {
    facts: compactFacts({
      objet: field(ctx, 'objet'),
      id_coll: field(ctx, 'id_coll') ?? header.idColl,
      cod_bud: field(ctx, 'cod_bud') ?? header.codBud,
      libelle_col_bud: header.libelleColBud,
      exercice,
      id_bordereau: idBordereau,
      dte_str: field(ctx, 'dte_str') ?? header.dteStr,
      etat_ack: etatAck,
      nb_pj: pes ? String(pjs.length) : undefined,
    }),
    details: defined({
      objet: field(ctx, 'objet'),
      pes: pes?.name,
      enTete: Object.keys(header).length ? defined(header) : undefined,
      exercice,
      bordereaux: bordereaux.map((b) => defined({ ...b })),
      autresBlocs: blocks,
      piecesJustificatives: pjs.map((p) => defined({ ...p })),
      etatAck,
      acquit,
      visuel: entriesOf(ctx, 'visuel_pdf').map((e) => e.name),
      reponse: entriesOf(ctx, 'fichier_reponse').map((e) => e.name),
    }),
    extra,
    warnings,
  };
}

/** `fichier_pes`, else `fichier_pes_signe`, else an XML file whose start names PES_Aller. */
async function pesEntry(ctx: DecodeContext): Promise<EnvelopeEntry | undefined> {
  const declared = entriesOf(ctx, 'fichier_pes')[0] ?? entriesOf(ctx, 'fichier_pes_signe')[0];
  if (declared) return declared;
  for (const e of ctx.entries) {
    if (e.path === ctx.metadata?.file || !/\.xml$/i.test(e.path)) continue;
    if ((await readHead(ctx.reader, e.path, SNIFF_BYTES)).toString('latin1').includes('PES_Aller')) return e;
  }
  return undefined;
}

function readHeader(root: XmlNode): Record<string, string | undefined> {
  const h = child(root, 'EnTetePES');
  const p = child(root, 'Enveloppe', 'Parametres');
  return {
    idColl: v(h, 'IdColl'),
    codCol: v(h, 'CodCol'),
    codBud: v(h, 'CodBud'),
    libelleColBud: v(h, 'LibelleColBud'),
    dteStr: v(h, 'DteStr'),
    idPost: v(h, 'IdPost'),
    typFic: v(p, 'TypFic'),
    nomFic: v(p, 'NomFic'),
    version: v(p, 'Version'),
  };
}

function readBordereaux(root: XmlNode): Bordereau[] {
  const out: Bordereau[] = [];
  for (const [block, domaine] of DOMAINS) {
    for (const b of children(child(root, block), 'Bordereau')) {
      const bb = child(b, 'BlocBordereau');
      out.push({
        domaine,
        exercice: v(bb, 'Exer'),
        idBord: v(bb, 'IdBord'),
        dateEmission: v(bb, 'DteBordEm'),
        type: v(bb, 'TypBord'),
        nombrePieces: v(bb, 'NbrPce') ?? String(children(b, 'Piece').length),
        montantHT: v(bb, 'MtBordHT'),
      });
    }
  }
  return out;
}

function readPj(
  ctx: DecodeContext,
  pes: EnvelopeEntry,
  pj: XmlNode,
  payloads: Payload[],
  n: number,
  position: number,
  what: string,
): { info: PieceJustificative; doc: ExtraDocument; check: PayloadToCheck } | undefined {
  const fichier = child(pj, 'Contenu', 'Fichier');
  const ref = /^#(\d+)$/.exec(text(fichier) ?? '');
  const payload = ref ? payloads[Number(ref[1])] : undefined;
  if (!payload) return undefined;
  const idUnique = v(pj, 'IdUnique');
  const nomPJ = v(pj, 'NomPJ');
  const mimeType = fichier?.['@_MIMEType'] as string | undefined;
  const name = safeFileName(nomPJ ?? `PJ_${idUnique ?? n + 1}`);
  const info: PieceJustificative = { idUnique, nomPJ, typePJ: v(pj, 'TypePJ'), description: v(pj, 'Description'), mimeType };
  const gzip = isGzipBase64(payload.head);
  const label = `${what}: PJ n°${position + 1}${nomPJ ? ` "${nomPJ}"` : ''}${idUnique ? ` (IdUnique ${idUnique})` : ''}`;
  return {
    info,
    check: { start: payload.start, end: payload.end, gzip, label },
    doc: {
      name,
      contentType: mimeType,
      facts: compactFacts({ pj_id_unique: idUnique, pj_type: info.typePJ, pj_description: info.description, pes: pes.name }),
      open: async () => decodePayload(await ctx.reader.openRange(pes.path, payload.start, payload.end), gzip, label),
    },
  };
}

/** The PES_ACQUIT return file(s) (`fichier_reponse`): acknowledgement state per bordereau. */
async function readAcquit(ctx: DecodeContext, warnings: string[]): Promise<Record<string, string | undefined>[] | undefined> {
  const files = entriesOf(ctx, 'fichier_reponse');
  if (files.length === 0) return undefined;
  const out: Record<string, string | undefined>[] = [];
  for (const f of files) {
    const what = `${ctx.label}/${f.path}`;
    const root = rootOf(parseXml(await readSmall(ctx.reader, f.path, MAX_XML_BYTES, what), what));
    if (root?.name !== 'PES_ACQUIT') {
      warnings.push(`${f.name}: root <${root?.name ?? '?'}> is not a PES_ACQUIT`);
      continue;
    }
    for (const acquit of children(root.node, 'ACQUIT')) {
      for (const e of children(acquit, 'ElementACQUIT')) {
        out.push(defined({ domaineAck: v(e, 'DomaineAck'), etatAck: v(e, 'EtatAck'), numBord: v(e, 'NumBord'), exerciceBord: v(e, 'ExerciceBord') }));
      }
    }
  }
  return out;
}
