// What a file that waits says: an incoming one from a message request downloads once its
// sender is accepted; one over the auto-download size has a Download button; an outgoing one
// waits for its recipient to take it.
import type { FileView, MessageView } from '../../../shared/api.ts';
import { useT } from '../i18n.ts';
import { useStrataStore } from '../store/index.ts';

export function FileWaiting({ m, file }: { m: MessageView; file: FileView }) {
  const t = useT();
  const { downloadFile } = useStrataStore().getState();
  if (file.state !== 'waiting') return null;
  if (file.held === 'size') {
    return (
      <span className="file-note file-waiting" data-testid="file-waiting" data-held="size">
        <span>{t('file.waitingSize')}</span>
        <button
          type="button"
          className="btn btn-small"
          data-testid="file-download-now"
          onClick={() => void downloadFile(m.key)}
        >
          {t('file.downloadNow')}
        </button>
      </span>
    );
  }
  return (
    <span className="file-note file-waiting" data-testid="file-waiting" data-held={file.held}>
      {t(file.held === 'peer' ? 'file.waitingPeer' : 'file.waitingRequest', { name: m.peer })}
    </span>
  );
}
