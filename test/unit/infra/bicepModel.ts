// A small model of the Bicep files, read with tree-sitter-bicep (no Bicep compiler can run
// here): syntax problems, parameters with their decorators and defaults, variables,
// module calls and outputs. Enough to check what a compiler would not let through in
// the wiring (unknown or missing module parameters, missing outputs) and what the app
// needs (settings and their defaults). Types and API versions are not checked.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Cron } from 'croner';
import Parser from 'tree-sitter';
import Bicep from 'tree-sitter-bicep';

export type Node = Parser.SyntaxNode;

export const REPO = resolve(__dirname, '../../..');
export const INFRA = join(REPO, 'infra');
export const MAIN_BICEP = join(INFRA, 'main.bicep');
export const FUNCTION_APP_BICEP = join(INFRA, 'modules', 'functionApp.bicep');

export interface ParamInfo {
  name: string;
  type: string;
  defaultValue?: Node;
  decorators: string[];
  node: Node;
}

export interface ModuleCall {
  symbol: string;
  /** Absolute path of the module file. */
  file: string;
  params: Map<string, Node>;
  node: Node;
}

export interface BicepFile {
  file: string;
  source: string;
  root: Node;
  params: Map<string, ParamInfo>;
  variables: Map<string, Node>;
  outputs: Map<string, Node>;
  modules: ModuleCall[];
  resources: Node[];
}

let parser: Parser | undefined;
function getParser(): Parser {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(Bicep as unknown as Parser.Language);
  }
  return parser;
}

/** Every ERROR or MISSING node, as `line:column what`. */
export function syntaxProblems(root: Node): string[] {
  const out: string[] = [];
  const walk = (n: Node) => {
    if (n.type === 'ERROR' || n.isMissing) {
      const where = `${n.startPosition.row + 1}:${n.startPosition.column + 1}`;
      out.push(n.isMissing ? `${where} missing ${n.type}` : `${where} cannot parse ${JSON.stringify(n.text.slice(0, 60))}`);
    }
    for (const c of n.children) walk(c);
  };
  walk(root);
  return out;
}

export function parseSource(source: string): Node {
  // tree-sitter's default buffer is too small for larger files: give it room.
  return getParser().parse(source, undefined, { bufferSize: Math.max(64 * 1024, source.length * 4) }).rootNode;
}

export function bicepFiles(dir = INFRA): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...bicepFiles(p));
    else if (e.endsWith('.bicep')) out.push(p);
  }
  return out.sort();
}

const cache = new Map<string, BicepFile>();

export function loadBicep(file: string): BicepFile {
  const hit = cache.get(file);
  if (hit) return hit;
  const source = readFileSync(file, 'utf8');
  const root = parseSource(source);
  const model: BicepFile = { file, source, root, params: new Map(), variables: new Map(), outputs: new Map(), modules: [], resources: [] };
  let pending: string[] = [];
  for (const child of root.namedChildren) {
    if (child.type === 'decorators') {
      pending = child.namedChildren.map(decoratorName);
      continue;
    }
    const decorators = pending;
    pending = [];
    const named = child.namedChildren;
    const name = named[0]?.type === 'identifier' ? named[0].text : undefined;
    if (!name) continue;
    if (child.type === 'parameter_declaration') {
      model.params.set(name, { name, type: named[1]?.text ?? '', defaultValue: named[2], decorators, node: child });
    } else if (child.type === 'variable_declaration') {
      model.variables.set(name, named[named.length - 1]!);
    } else if (child.type === 'output_declaration') {
      model.outputs.set(name, child);
    } else if (child.type === 'module_declaration') {
      const path = literalString(named[1]!);
      const body = bodyObject(child);
      const params = body ? objectEntries(body).get('params') : undefined;
      model.modules.push({
        symbol: name,
        file: path ? resolve(dirname(file), path) : '',
        params: params?.type === 'object' ? objectEntries(params) : new Map(),
        node: child,
      });
    } else if (child.type === 'resource_declaration') {
      model.resources.push(child);
    }
  }
  cache.set(file, model);
  return model;
}

function decoratorName(decorator: Node): string {
  const call = decorator.namedChildren[0];
  return call?.childForFieldName('function')?.text ?? call?.text ?? '';
}

/** The `{...}` body of a resource or module declaration, also under `if (...)` or `[for ...]`. */
export function bodyObject(declaration: Node): Node | undefined {
  for (const c of declaration.namedChildren) {
    if (c.type === 'object') return c;
    if (c.type === 'if_statement' || c.type === 'for_statement' || c.type === 'array') {
      const inner = c.namedChildren.find((x) => x.type === 'object') ?? c.namedChildren.map((x) => bodyObject(x)).find(Boolean);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Keys and value nodes of an object literal (quoted keys unquoted). */
export function objectEntries(object: Node): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const prop of object.namedChildren) {
    if (prop.type !== 'object_property') continue;
    const [key, value] = prop.namedChildren;
    if (!key || !value) continue;
    const k = key.type === 'string' ? literalString(key) : key.text;
    if (k !== undefined) out.set(k, value);
  }
  return out;
}

/** The text of a string literal without interpolation; undefined for anything else. */
export function literalString(node: Node): string | undefined {
  if (node.type !== 'string') return undefined;
  if (node.namedChildren.some((c) => c.type === 'interpolation')) return undefined;
  let out = '';
  for (const c of node.namedChildren) {
    if (c.type === 'string_content') out += c.text;
    else if (c.type === 'escape_sequence') out += c.text.slice(1);
  }
  return out;
}

export type Resolved = { kind: 'literal'; value: string } | { kind: 'computed'; text: string } | { kind: 'unset'; why: string };

/**
 * What a setting's value expression amounts to, following identifiers to the parameter
 * they name and, for a module's parameter without default, to the value main.bicep passes.
 */
export function resolveValue(node: Node, file: BicepFile, seen = 0): Resolved {
  if (seen > 10) return { kind: 'unset', why: 'reference loop' };
  const s = literalString(node);
  if (s !== undefined) return s === '' ? { kind: 'unset', why: 'empty string' } : { kind: 'literal', value: s };
  if (node.type === 'number' || node.type === 'boolean') return { kind: 'literal', value: node.text };
  if (node.type === 'call_expression' && node.childForFieldName('function')?.text === 'string') {
    const arg = node.childForFieldName('arguments')?.namedChildren[0];
    return arg ? resolveValue(arg, file, seen + 1) : { kind: 'unset', why: 'string() without argument' };
  }
  if (node.type === 'identifier') {
    const name = node.text;
    const param = file.params.get(name);
    if (param) {
      if (param.defaultValue) return resolveValue(param.defaultValue, file, seen + 1);
      const caller = callerOf(file.file);
      if (!caller) return { kind: 'unset', why: `parameter ${name} of ${rel(file.file)} has no default and no caller` };
      const passed = caller.call.params.get(name);
      if (!passed) return { kind: 'unset', why: `${rel(caller.file.file)} does not pass ${name} to ${rel(file.file)}` };
      return resolveValue(passed, caller.file, seen + 1);
    }
    const variable = file.variables.get(name);
    if (variable) return resolveValue(variable, file, seen + 1);
    return { kind: 'unset', why: `${name} is neither a parameter nor a variable of ${rel(file.file)}` };
  }
  return { kind: 'computed', text: node.text };
}

/** The module call (in main.bicep) that deploys `moduleFile`. */
export function callerOf(moduleFile: string): { file: BicepFile; call: ModuleCall } | undefined {
  const main = loadBicep(MAIN_BICEP);
  const call = main.modules.find((m) => m.file === moduleFile);
  return call ? { file: main, call } : undefined;
}

/**
 * The app settings the function app module declares with a fixed key: every key of the
 * object-literal variables whose name ends with `Settings` (storageSettings,
 * scheduleSettings...), with its value expression.
 */
export function declaredAppSettings(file = loadBicep(FUNCTION_APP_BICEP)): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const [name, value] of file.variables) {
    if (!/Settings$/.test(name) || value.type !== 'object') continue;
    for (const [k, v] of objectEntries(value)) out.set(k, v);
  }
  return out;
}

export function rel(file: string): string {
  return relative(REPO, file);
}

// ---- settings: Bicep app settings, local.settings.json.example, schedules ----

/** App settings Flex Consumption deprecates (runtime, package and content share live in functionAppConfig). */
export const FLEX_DEPRECATED = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_TIME_ZONE',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
];

/**
 * Site properties Flex Consumption deprecates (functions-app-settings#flex-consumption-plan-deprecations):
 * runtime and scale live in functionAppConfig, and there is no FTP(S).
 */
export const FLEX_DEPRECATED_SITE_PROPERTIES = [
  'ftpsState',
  'alwaysOn',
  'containerSize',
  'dnsConfiguration',
  'isReserved',
  'IsXenon',
  'javaVersion',
  'linuxFxVersion',
  'netFrameworkVersion',
  'powerShellVersion',
  'functionAppScaleLimit',
  'preWarmedInstanceCount',
  'use32BitWorkerProcess',
  'vnetRouteAllEnabled',
  'vnetContentShareEnabled',
  'vnetImagePullEnabled',
  'windowsFxVersion',
];

export function exampleSettings(): Record<string, string> {
  return (JSON.parse(readFileSync(join(REPO, 'local.settings.json.example'), 'utf8')) as { Values: Record<string, string> }).Values;
}

export function bicepSetting(name: string): Resolved {
  const node = declaredAppSettings().get(name);
  if (!node) return { kind: 'unset', why: `${name} is not among the app settings of infra/modules/functionApp.bicep` };
  return resolveValue(node, loadBicep(FUNCTION_APP_BICEP));
}

/** An NCRONTAB schedule of the Functions timer: six fields, seconds first. */
export function isNcrontab(schedule: string): boolean {
  if (schedule.trim().split(/\s+/).length !== 6) return false;
  try {
    new Cron(schedule, { paused: true, mode: '6-part' });
    return true;
  } catch {
    return false;
  }
}

/** The values of the @allowed([...]) decorator of a parameter, if it has one. */
export function allowedValues(param: ParamInfo): string[] | undefined {
  const decorators = param.node.previousNamedSibling;
  if (decorators?.type !== 'decorators') return undefined;
  for (const d of decorators.namedChildren) {
    const call = d.namedChildren[0];
    if (call?.childForFieldName('function')?.text !== 'allowed') continue;
    const array = call.childForFieldName('arguments')?.namedChildren[0];
    return array?.namedChildren.map((n) => literalString(n) ?? n.text);
  }
  return undefined;
}

/** The argument of a one-argument decorator (`@minValue(1)` gives '1'), if the parameter has it. */
export function decoratorArgument(param: ParamInfo, name: string): string | undefined {
  const decorators = param.node.previousNamedSibling;
  if (decorators?.type !== 'decorators') return undefined;
  for (const d of decorators.namedChildren) {
    const call = d.namedChildren[0];
    if (call?.childForFieldName('function')?.text !== name) continue;
    return call.childForFieldName('arguments')?.namedChildren[0]?.text;
  }
  return undefined;
}

/** The declaration of the first resource of `type` (e.g. 'Microsoft.Web/sites') in a file. */
export function resourceOfType(file: BicepFile, type: string): Node | undefined {
  return file.resources.find((r) => literalString(r.namedChildren[1]!)?.split('@')[0] === type);
}

/** Every property key of an object literal and of the objects nested in it. */
export function nestedKeys(node: Node): string[] {
  const out: string[] = [];
  const walk = (n: Node) => {
    if (n.type !== 'object') {
      for (const c of n.namedChildren) walk(c);
      return;
    }
    for (const [k, v] of objectEntries(n)) {
      out.push(k);
      walk(v);
    }
  };
  walk(node);
  return out;
}
