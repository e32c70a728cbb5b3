import { opensslAvailable } from '../fakes/entraFake';

/**
 * Whether the O365 integration tests can run here: they need openssl (test certificates
 * for the HTTPS fakes) and Azurite. Missing ones skip the tests with the reason, unless
 * REQUIRE_AZURITE is set (CI), where the tests run and fail.
 */
export function o365Skip(): string | false {
  const missing = [!opensslAvailable() && 'openssl', !canResolve('azurite') && 'azurite'].filter(Boolean);
  return missing.length > 0 && !process.env.REQUIRE_AZURITE ? `needs ${missing.join(' and ')}` : false;
}

function canResolve(name: string): boolean {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}
