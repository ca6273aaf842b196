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

/** A StrataApi the renderer can let go of: `close` ends its link (and any reconnecting). */
export interface ApiClient extends StrataApi {
  close(): void;
}

export async function connectApi(): Promise<ApiClient> {
  if (window.strataBridge !== undefined) {
    // The preload's bridge lives as long as the window: it has no link of its own to end.
    return { ...apiFromBridge(window.strataBridge), close: () => undefined };
  }
  const client = new WsApiClient({ url: browserApiUrl(window.location) });
  await client.connect();
  return client;
}
