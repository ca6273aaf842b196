// The renderer picks its transport once, at start: the preload's bridge inside Electron, or the
// browser host's WebSocket anywhere else. Everything above this file sees only StrataApi.
import { apiFromBridge, type StrataApi } from '../../../shared/contract.ts';
import { WsApiClient } from './ws-client.ts';

export type { StrataApi };

/** The browser host's API address: same origin, path /api, with the page's token if it has one. */
export function browserApiUrl(location: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const token = new URLSearchParams(location.search).get('token');
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

export async function connectApi(): Promise<StrataApi> {
  if (window.strataBridge !== undefined) return apiFromBridge(window.strataBridge);
  const client = new WsApiClient({ url: browserApiUrl(window.location) });
  await client.connect();
  return client;
}
