import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { readBody, type Transport } from './transport';

/**
 * MSAL's HTTP client, on the launcher's transport: the same TLS trust (a private CA for a
 * TLS-inspecting proxy, or a test authority) and timeouts as the Graph requests.
 */
export function msalNetworkClient(transport: Transport): INetworkModule {
  const send = async <T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    const res = await transport.send(method, url, { accept: 'application/json', ...(options?.headers ?? {}) }, method === 'POST' ? (options?.body ?? '') : undefined);
    const text = (await readBody(res)).toString('utf8');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    return { headers, status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as T };
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}
