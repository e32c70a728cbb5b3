import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, methodsSink } from '../../../shared/util/log';
import { INFRA, MAIN_BICEP, REPO, bicepFiles, bodyObject, literalString, loadBicep, objectEntries, rel, resourceOfType, type Node } from './bicepModel';

// The optional e-mail alerts (infra/modules/alerts.bicep): created only when alertEmail is
// given, scoped to the Application Insights component, and querying the traces in the
// form the app writes them. No Azure here: what the service does with the rules is the
// docs' word, checked in review, not here.

const ALERTS_BICEP = join(INFRA, 'modules', 'alerts.bicep');
const MONITORING_BICEP = join(INFRA, 'modules', 'monitoring.bicep');
const ALERT_TYPES = ['Microsoft.Insights/actionGroups', 'Microsoft.Insights/scheduledQueryRules'];

const typeOf = (r: Node) => literalString(r.namedChildren[1]!) ?? '';
const symbolOf = (r: Node) => r.namedChildren[0]!.text;
const body = (r: Node) => objectEntries(bodyObject(r)!);
const properties = (r: Node) => objectEntries(body(r).get('properties')!);
const arrayItems = (n: Node | undefined) => (n?.type === 'array' ? n.namedChildren.map((c) => c.text) : []);

function alerts() {
  const file = loadBicep(ALERTS_BICEP);
  const rules = file.resources.filter((r) => typeOf(r).startsWith('Microsoft.Insights/scheduledQueryRules@'));
  const actionGroup = resourceOfType(file, 'Microsoft.Insights/actionGroups');
  const component = resourceOfType(file, 'Microsoft.Insights/components');
  return { file, rules, actionGroup, component };
}

/** The KQL of a rule: its criteria's query, followed to the variable that holds it. */
function queryOf(rule: Node): string {
  const query = conditionOf(rule).get('query')!;
  const value = query.type === 'identifier' ? loadBicep(ALERTS_BICEP).variables.get(query.text)! : query;
  const text = literalString(value);
  assert.ok(text, `the query of ${symbolOf(rule)} is not a plain string`);
  return text;
}

/** The first (only) condition of a rule's criteria. */
function conditionOf(rule: Node): Map<string, Node> {
  return objectEntries(objectEntries(properties(rule).get('criteria')!).get('allOf')!.namedChildren[0]!);
}

test('alertEmail is an optional parameter of main.bicep, empty by default, listed in main.parameters.json', () => {
  const p = loadBicep(MAIN_BICEP).params.get('alertEmail');
  assert.ok(p, 'main.bicep has no alertEmail parameter');
  assert.equal(p.type, 'string');
  assert.equal(p.defaultValue && literalString(p.defaultValue), '', 'alertEmail defaults to empty (no alerting resources)');
  const file = JSON.parse(readFileSync(join(INFRA, 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: unknown }> };
  assert.deepEqual(file.parameters.alertEmail, { value: '' });
});

test('the alerting resources are all in modules/alerts.bicep, which main.bicep deploys only when alertEmail is set', () => {
  for (const f of bicepFiles()) {
    if (f === ALERTS_BICEP) continue;
    const found = loadBicep(f).resources.filter((r) => ALERT_TYPES.some((t) => typeOf(r).startsWith(`${t}@`)));
    assert.deepEqual(found.map(symbolOf), [], `${rel(f)} declares alerting resources outside the conditional module`);
  }
  const { rules, actionGroup } = alerts();
  assert.ok(actionGroup, 'alerts.bicep declares no action group');
  assert.equal(rules.length, 2, 'an errors rule and a dead-letters rule');

  const callers = bicepFiles().flatMap((f) => loadBicep(f).modules.filter((m) => m.file === ALERTS_BICEP).map((m) => ({ f, m })));
  assert.equal(callers.length, 1, 'alerts.bicep is deployed once');
  const { f, m } = callers[0]!;
  assert.equal(f, MAIN_BICEP);
  const condition = m.node.namedChildren.find((c) => c.type === 'if_statement');
  assert.ok(condition, 'the alerts module has no if (...) condition');
  assert.match(condition.text.replace(/\s+/g, ''), /^if\(!empty\(alertEmail\)\)\{/, 'the module is deployed only if alertEmail is not empty');
  assert.equal(m.params.get('alertEmail')?.text, 'alertEmail');
});

test('every rule is scoped to the workspace-based Application Insights component monitoring.bicep creates', () => {
  const { file, rules, actionGroup, component } = alerts();
  assert.ok(component, 'alerts.bicep does not name the component');
  assert.match(component.text, /^resource \w+ '[^']+' existing =/, 'the component is an existing resource, not a second one');
  assert.equal(body(component).get('name')?.text, 'applicationInsightsName');
  assert.ok(file.params.has('applicationInsightsName'));

  // main.bicep passes the name of the component monitoring.bicep deploys, and that one is
  // workspace-based.
  const call = loadBicep(MAIN_BICEP).modules.find((m) => m.file === ALERTS_BICEP)!;
  assert.equal(call.params.get('applicationInsightsName')?.text, 'monitoring.outputs.APPLICATIONINSIGHTS_NAME');
  const monitoring = loadBicep(MONITORING_BICEP);
  const created = resourceOfType(monitoring, 'Microsoft.Insights/components')!;
  assert.match(monitoring.outputs.get('APPLICATIONINSIGHTS_NAME')!.text, new RegExp(`= ${symbolOf(created)}\\.name$`));
  assert.ok(properties(created).has('WorkspaceResourceId'), 'the component is workspace-based');

  for (const rule of rules) {
    assert.deepEqual(arrayItems(properties(rule).get('scopes')), [`${symbolOf(component)}.id`], `${symbolOf(rule)}: scopes`);
    const actions = objectEntries(properties(rule).get('actions')!);
    assert.deepEqual(arrayItems(actions.get('actionGroups')), [`${symbolOf(actionGroup!)}.id`], `${symbolOf(rule)}: action group`);
  }
});

test('stable API versions; rules every 15 minutes over 15 minutes, one alert per launcherId, repeats muted', () => {
  const { file, rules, actionGroup } = alerts();
  for (const r of file.resources) assert.doesNotMatch(typeOf(r), /-preview$/, `${symbolOf(r)} uses a preview API version`);
  assert.equal(typeOf(actionGroup!), 'Microsoft.Insights/actionGroups@2023-01-01');

  for (const rule of rules) {
    const name = symbolOf(rule);
    assert.equal(typeOf(rule), 'Microsoft.Insights/scheduledQueryRules@2023-12-01', name);
    assert.equal(literalString(body(rule).get('kind')!), 'LogAlert', name);
    const p = properties(rule);
    assert.equal(p.get('enabled')?.text, 'true', name);
    assert.equal(literalString(p.get('evaluationFrequency')!), 'PT15M', name);
    assert.equal(literalString(p.get('windowSize')!), 'PT15M', name);
    assert.match(p.get('severity')?.text ?? '', /^[0-4]$/, name);

    const condition = conditionOf(rule);
    assert.equal(literalString(condition.get('timeAggregation')!), 'Count', name);
    assert.equal(literalString(condition.get('operator')!), 'GreaterThan', name);
    assert.equal(condition.get('threshold')?.text, '0', name);
    const dimensions = condition.get('dimensions')!.namedChildren.map((d) => objectEntries(d));
    const dimensionNames = dimensions.map((d) => literalString(d.get('name')!));
    assert.ok(dimensionNames.includes('launcherId'), `${name}: one alert per launcherId`);
    const query = queryOf(rule);
    for (const d of dimensions) {
      const dim = literalString(d.get('name')!)!;
      assert.match(query, new RegExp(`\\b${dim} = `), `${name}: dimension ${dim} is not a column of the query`);
      assert.equal(literalString(d.get('operator')!), 'Include');
      assert.deepEqual(arrayItems(d.get('values')), ["'*'"], `${name}: every value of ${dim}, including future ones`);
    }

    // Stateful (autoMitigate) or muted for a while: the service refuses both at once.
    const autoMitigate = p.get('autoMitigate')?.text;
    const mute = p.get('muteActionsDuration');
    if (mute) {
      assert.equal(autoMitigate, 'false', `${name}: muteActionsDuration needs autoMitigate false`);
      assert.match(literalString(mute) ?? '', /^PT(\d+H|\d+M|\d+H\d+M)$/, name);
    } else {
      assert.equal(autoMitigate, 'true', `${name}: neither stateful nor muted, it would e-mail every 15 minutes`);
    }
  }

  const ag = properties(actionGroup!);
  assert.equal(ag.get('enabled')?.text, 'true');
  assert.ok((literalString(ag.get('groupShortName')!) ?? '').length <= 12, 'groupShortName: 12 characters at most');
  const receivers = ag.get('emailReceivers')!.namedChildren.map((r) => objectEntries(r));
  assert.equal(receivers.length, 1);
  assert.equal(receivers[0]!.get('emailAddress')?.text, 'alertEmail');
  assert.equal(receivers[0]!.get('useCommonAlertSchema')?.text, 'true');
});

test('the queries read launcherId from the JSON each message ends with, as the app writes it', () => {
  const { rules } = alerts();
  const [errors, deadLetters] = rules.map(queryOf) as [string, string];
  for (const q of [errors, deadLetters]) {
    assert.match(q, /^traces\n/m, 'the component\'s traces table');
    assert.match(q, /\| where severityLevel >= 3\n/, 'error level (3 Error, 4 Critical)');
    // The fields are in the message, not in customDimensions (methodsSink).
    assert.doesNotMatch(q, /customDimensions\.launcherId/);
  }
  assert.match(errors, /!contains "moved to the failed container"/, 'dead letters are the other rule\'s');
  assert.match(deadLetters, /\| where message contains "moved to the failed container"/);

  // The KQL regular expressions, applied with JavaScript's (the same for these patterns)
  // to lines written by the real logger, as the handlers in functions/ set it up.
  const fieldsJson = new RegExp(/let fieldsJson = @'([^']+)';/.exec(errors)![1]!);
  assert.equal(/let fieldsJson = @'([^']+)';/.exec(deadLetters)![1], fieldsJson.source);
  const textOnly = new RegExp(/replace_regex\(message, @'([^']+)', ''\)/.exec(errors)![1]!);
  const documentName = new RegExp(/document = extract\(@'([^']+)', 1, message\)/.exec(deadLetters)![1]!);

  const lines: string[] = [];
  const sink = methodsSink({ debug: () => undefined, info: () => undefined, warn: () => undefined, error: (m: unknown) => lines.push(String(m)) });
  const root = createLogger(sink, { invocationId: '7c0e9f6a-1f7d-4c1e-9d51-2b8f0e1a2c3d' });
  root.child({ launcherId: 'imap-invoices', protocol: 'imap' }).error('launcher imap-invoices could not run: the server answered {"status":"NO"}', { code: 'IMAP_LOGIN' });
  root.child({ launcherId: 'folder-1', blob: 'b1', waitdir: 'W' }).error('could not deliver "scan {2}.pdf": moved to the failed container (HTTP 500 {"e":1})', { attempts: 8, reason: 'HTTP 500 {"e":1}' });
  root.error('coldRetry could not list staging');

  const fields = lines.map((l) => {
    const m = fieldsJson.exec(l);
    return m ? (JSON.parse(m[0]) as Record<string, unknown>) : undefined;
  });
  assert.equal(fields[0]?.launcherId, 'imap-invoices', 'braces in the text are not taken for the fields');
  assert.equal(fields[0]?.code, 'IMAP_LOGIN');
  assert.equal(fields[1]?.launcherId, 'folder-1');
  assert.equal(fields[1]?.reason, 'HTTP 500 {"e":1}');
  assert.equal(fields[2]?.launcherId, undefined, 'a line without launcherId: the query says "(none)"');
  assert.equal(lines[0]!.replace(textOnly, ''), 'launcher imap-invoices could not run: the server answered {"status":"NO"}');
  assert.equal(documentName.exec(lines[1]!)?.[1], 'scan {2}.pdf');

  // Every handler's logger starts with invocationId, which the pattern relies on.
  for (const handler of ['launcherHandler.ts', 'coldSender.ts', 'coldRetry.ts']) {
    const source = readFileSync(join(REPO, 'functions', handler), 'utf8');
    const calls = [...source.matchAll(/createLogger\(methodsSink\(context\), \{([^}]*)\}/g)];
    assert.ok(calls.length > 0, `functions/${handler} logs through methodsSink(context)`);
    for (const c of calls) assert.match(c[1]!, /^\s*invocationId: context\.invocationId\b/, `functions/${handler}: invocationId first`);
  }
  // The messages the rules look for are error-level lines of the code.
  const deliver = readFileSync(join(REPO, 'shared', 'delivery', 'deliverStaged.ts'), 'utf8');
  assert.match(deliver, /log\.error\(`could not deliver "\$\{meta\.fileName\}": moved to the failed container \(/);
  assert.match(readFileSync(join(REPO, 'shared', 'launch', 'runLauncher.ts'), 'utf8'), /log\.error\(`launcher \$\{launcher\.id\} could not run: /);
});
