// The renderer picks its transport once, at start: the preload's bridge inside Electron, or the
// browser host's WebSocket anywhere else. Everything above this file sees only ApiClient: the
// host's methods and events, and how a picked file reaches the host.
import { apiFromBridge, type StrataApi } from '../../../shared/contract.ts';
import { stageByPath, stageByUpload, type StageFile } from './files.ts';
import { WsApiClient } from './ws-client.ts';

export type { StrataApi };
export { StageError, type FileSource, type StageFailure, type StageFile } from './files.ts';

/** The browser host's API address: same origin, path /api, with the page's token if it has one. */
export function browserApiUrl(location: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const token = new URLSearchParams(location.search).get('token');
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/** The host as the store sees it, whichever carries it. */
export interface HostClient extends StrataApi {
  /** Hands a picked or dropped file to the host, for `sendFile`. */
  stageFile: StageFile;
  /**
   * Whether stageFile takes a File made in the page (a long text sent as a file): the browser
   * host copies any File's bytes; Electron sends only files on disk, by path.
   */
  stagesPageFiles: boolean;
}

/** A HostClient the renderer can let go of: `close` ends its link (and any reconnecting). */
export interface ApiClient extends HostClient {
  close(): void;
}

export async function connectApi(): Promise<ApiClient> {
  if (window.strataBridge !== undefined) {
    // The preload's bridge lives as long as the window: it has no link of its own to end.
    return {
      ...apiFromBridge(window.strataBridge),
      stageFile: stageByPath(window.strataFiles),
      stagesPageFiles: false,
      close: () => undefined,
    };
  }
  const client = new WsApiClient({ url: browserApiUrl(window.location) });
  await client.connect();
  return Object.assign(client, { stageFile: stageByUpload, stagesPageFiles: true });
}
