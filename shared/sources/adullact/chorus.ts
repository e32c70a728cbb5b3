import { compactFacts, defined, entriesOf, field, type DecodeContext, type Decoded } from './decoded';
import { RANGE_CHUNK_BYTES, readHead } from './envelopeReader';
import { MAX_SKELETON_BYTES, SkeletonTooLargeError, stripPayloads } from './skeleton';
import { child, children, parseXml, rootOf, text, type XmlNode } from './xml';

/** Elements of invoice XML that carry embedded files (base64): stripped, never parsed. */
const BINARY_ELEMENTS = ['Contenu', 'EmbeddedDocumentBinaryObject', 'AttachmentBinaryObject', 'IncludedBinaryObject'];
const SNIFF_BYTES = 64;

/** The facts an invoice file gives, whatever its syntax. */
export interface InvoiceXml {
  syntaxe: 'CPP pivot' | 'UBL' | 'CII';
  numero?: string;
  idCpp?: string;
  type?: string;
  dateFacture?: string;
  devise?: string;
  fournisseur?: string;
  fournisseurId?: string;
  fournisseurTypeId?: string;
  debiteur?: string;
  siretDebiteur?: string;
  codeService?: string;
  montantHT?: string;
  montantTVA?: string;
  montantTTC?: string;
  montantAPayer?: string;
  numeroEngagement?: string;
  numeroMarche?: string;
}

/**
 * Chorus Pro invoices (facture-cpp and facture-chorus-fournisseur): number, supplier,
 * SIRET, amounts and dates from the metadata, completed by the invoice file
 * (`fichier_facture`: CPP pivot, UBL 2.1 or UN/CEFACT CII; a Factur-X PDF is delivered
 * as is). Embedded attachments of the XML are stripped as it streams, never loaded.
 */
export async function decodeChorus(ctx: DecodeContext): Promise<Decoded> {
  const warnings: string[] = [];
  let invoice: InvoiceXml | undefined;
  const file = entriesOf(ctx, 'fichier_facture')[0];
  if (file) {
    const what = `${ctx.label}/${file.path}`;
    const head = (await readHead(ctx.reader, file.path, SNIFF_BYTES)).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
    if (!head.startsWith('<')) warnings.push(`${file.name}: not XML (${head.startsWith('%PDF') ? 'PDF, e.g. Factur-X' : 'unknown format'}), delivered without decoding`);
    else {
      try {
        const skeleton = await stripPayloads(await ctx.reader.open(file.path, RANGE_CHUNK_BYTES), BINARY_ELEMENTS);
        invoice = readInvoice(parseXml(skeleton.xml, what, MAX_SKELETON_BYTES));
        if (!invoice) warnings.push(`${file.name}: not a CPP pivot, UBL or CII invoice`);
      } catch (err) {
        if (!(err instanceof SkeletonTooLargeError)) throw err;
        warnings.push(`${file.name}: not decoded, ${err.message}`);
      }
    }
  }

  const numero = field(ctx, 'no_facture', 'numero_facture') ?? invoice?.numero;
  const facts = {
    numero_facture: numero,
    id_facture_cpp: field(ctx, 'id_facture_cpp', 'identifiant_facture_cpp') ?? invoice?.idCpp,
    type_facture: field(ctx, 'type_facture') ?? invoice?.type,
    fournisseur: field(ctx, 'fournisseur_raison_sociale') ?? invoice?.fournisseur ?? field(ctx, 'fournisseur'),
    fournisseur_id: field(ctx, 'fournisseur') ?? invoice?.fournisseurId,
    siret: field(ctx, 'siret') ?? invoice?.siretDebiteur,
    destinataire: field(ctx, 'destinataire', 'code_destinataire') ?? invoice?.debiteur,
    date_facture: field(ctx, 'date_facture') ?? invoice?.dateFacture,
    date_depot: field(ctx, 'date_depot'),
    montant_ht: field(ctx, 'montant_ht_total') ?? invoice?.montantHT,
    montant_tva: field(ctx, 'montant_tva') ?? invoice?.montantTVA,
    montant_ttc: field(ctx, 'montant_ttc') ?? invoice?.montantTTC,
    montant_a_payer: field(ctx, 'montant_a_payer') ?? invoice?.montantAPayer,
    statut: field(ctx, 'statut_cpp', 'statut_facture'),
    syntaxe: field(ctx, 'syntaxe_flux_in') ?? invoice?.syntaxe,
  };
  const names = (f: string) => entriesOf(ctx, f).map((e) => e.name);
  return {
    facts: compactFacts(facts),
    details: defined({
      ...defined(facts),
      fichiers: defined({
        facture: names('fichier_facture'),
        factureOriginale: names('facture_pj_01'),
        pdf: names('fichier_facture_pdf'),
        piecesJointes: names('facture_pj_02'),
      }),
      factureXml: invoice ? defined({ ...invoice }) : undefined,
    }),
    extra: [],
    warnings,
  };
}

export function readInvoice(doc: XmlNode): InvoiceXml | undefined {
  const root = rootOf(doc);
  if (!root) return undefined;
  if (root.name === 'CPPFacturePivot') return readPivot(root.node);
  if (root.name === 'Invoice' || root.name === 'CreditNote') return readUbl(root.node, root.name);
  if (root.name === 'CrossIndustryInvoice') return readCii(root.node);
  return undefined;
}

/** Chorus Pro's pivot: CPPFactures/CPPFacturePivotUnitaire/{Fournisseur, Debiteur, DonneesFacture}. */
function readPivot(root: XmlNode): InvoiceXml {
  const unit = child(root, 'CPPFactures', 'CPPFacturePivotUnitaire');
  const f = child(unit, 'Fournisseur');
  const d = child(unit, 'Debiteur');
  const df = child(unit, 'DonneesFacture');
  return {
    syntaxe: 'CPP pivot',
    numero: text(df, 'Id'),
    idCpp: text(df, 'IdCPRO'),
    type: text(df, 'Type'),
    dateFacture: text(df, 'DateEmissionFacture'),
    devise: text(df, 'Devise'),
    fournisseur: text(f, 'RaisonSociale'),
    fournisseurId: text(f, 'Identifiant'),
    fournisseurTypeId: text(f, 'TypeIdentifiant'),
    debiteur: text(d, 'Nom'),
    siretDebiteur: text(d, 'Identifiant'),
    codeService: text(d, 'CodeService'),
    montantHT: text(df, 'Montants', 'MontantHT'),
    montantTVA: text(df, 'Montants', 'MontantTVA'),
    montantTTC: text(df, 'Montants', 'MontantTTC'),
    montantAPayer: text(df, 'Montants', 'MontantNetAPayer'),
    numeroEngagement: text(df, 'Engagement', 'NumeroEngagement'),
    numeroMarche: text(df, 'Engagement', 'NumeroMarche'),
  };
}

/** UBL 2.1 Invoice / CreditNote (namespaces dropped: cbc:ID → ID). */
function readUbl(root: XmlNode, name: string): InvoiceXml {
  const supplier = child(root, 'AccountingSupplierParty', 'Party');
  const customer = child(root, 'AccountingCustomerParty', 'Party');
  const totals = child(root, 'LegalMonetaryTotal');
  const typeCode = name === 'CreditNote' ? text(root, 'CreditNoteTypeCode') : text(root, 'InvoiceTypeCode');
  return {
    syntaxe: 'UBL',
    numero: text(root, 'ID'),
    type: typeCode,
    dateFacture: text(root, 'IssueDate'),
    devise: text(root, 'DocumentCurrencyCode'),
    fournisseur: text(supplier, 'PartyLegalEntity', 'RegistrationName') ?? text(supplier, 'PartyName', 'Name'),
    fournisseurId: text(supplier, 'PartyLegalEntity', 'CompanyID') ?? text(supplier, 'PartyIdentification', 'ID'),
    debiteur: text(customer, 'PartyLegalEntity', 'RegistrationName') ?? text(customer, 'PartyName', 'Name'),
    siretDebiteur: text(customer, 'PartyLegalEntity', 'CompanyID') ?? text(customer, 'PartyIdentification', 'ID'),
    montantHT: text(totals, 'TaxExclusiveAmount'),
    montantTVA: text(child(root, 'TaxTotal'), 'TaxAmount'),
    montantTTC: text(totals, 'TaxInclusiveAmount'),
    montantAPayer: text(totals, 'PayableAmount'),
    numeroEngagement: text(root, 'OrderReference', 'ID'),
  };
}

/** UN/CEFACT CII (also the XML inside Factur-X). */
function readCii(root: XmlNode): InvoiceXml {
  const docNode = child(root, 'ExchangedDocument');
  const trade = child(root, 'SupplyChainTradeTransaction');
  const agreement = child(trade, 'ApplicableHeaderTradeAgreement');
  const settlement = child(trade, 'ApplicableHeaderTradeSettlement');
  const sums = child(settlement, 'SpecifiedTradeSettlementHeaderMonetarySummation');
  const seller = child(agreement, 'SellerTradeParty');
  const buyer = child(agreement, 'BuyerTradeParty');
  const taxTotal = children(sums, 'TaxTotalAmount')[0];
  return {
    syntaxe: 'CII',
    numero: text(docNode, 'ID'),
    type: text(docNode, 'TypeCode'),
    dateFacture: text(docNode, 'IssueDateTime', 'DateTimeString'),
    devise: text(settlement, 'InvoiceCurrencyCode'),
    fournisseur: text(seller, 'Name'),
    fournisseurId: text(seller, 'SpecifiedLegalOrganization', 'ID'),
    debiteur: text(buyer, 'Name'),
    siretDebiteur: text(buyer, 'SpecifiedLegalOrganization', 'ID'),
    montantHT: text(sums, 'TaxBasisTotalAmount'),
    montantTVA: text(taxTotal),
    montantTTC: text(sums, 'GrandTotalAmount'),
    montantAPayer: text(sums, 'DuePayableAmount'),
    numeroEngagement: text(agreement, 'BuyerOrderReferencedDocument', 'IssuerAssignedID'),
  };
}
