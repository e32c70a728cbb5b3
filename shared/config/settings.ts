import { registerSecret } from '../util/secrets';
import type { ConfigProblem } from '../errors';

/** Settings are read from here: app settings in Azure, the environment locally. */
export type Settings = Readonly<Record<string, string | undefined>>;

const SETTING_REF = /%([A-Za-z_][A-Za-z0-9_.-]*)%/g;
const UNRESOLVED_KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(/i;
/** Keys whose values are secrets: they are redacted from every log line and error. */
const SECRET_KEY = /(password|secret|token|passphrase|^key$|privatekey)/i;

/**
 * Replaces every `%NAME%` in the string values of `raw` with the setting NAME.
 * A missing setting is a problem naming the setting (never a value). Values of secret
 * keys are registered for redaction, whether they came from a setting or not.
 */
export function resolveSettings(
  raw: unknown,
  settings: Settings,
  locate: (path: (string | number)[]) => string,
): { value: unknown; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      const resolved = node.replace(SETTING_REF, (_m, name: string) => {
        const v = settings[name];
        if (v === undefined || v === '') {
          problems.push({ path: locate(path), message: `setting ${name} is not set (app setting or environment variable)` });
          return '';
        }
        if (UNRESOLVED_KEY_VAULT_REFERENCE.test(v)) {
          // App Service leaves the reference text in place when it cannot resolve it.
          problems.push({ path: locate(path), message: `setting ${name} is a Key Vault reference that Azure could not resolve (check the secret's name and the app identity's "Key Vault Secrets User" role)` });
          return '';
        }
        return v;
      });
      const key = path[path.length - 1];
      if (typeof key === 'string' && SECRET_KEY.test(key)) registerSecret(resolved);
      return resolved;
    }
    if (Array.isArray(node)) return node.map((v, i) => walk(v, [...path, i]));
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(raw, []), problems };
}
