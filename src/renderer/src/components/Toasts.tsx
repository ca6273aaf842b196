// Notices that are not tied to one place: the relay refusing something, a failed retry.
import { useT } from '../i18n.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import { CloseIcon } from './Icons.tsx';

export function Toasts() {
  const t = useT();
  const { dismissToast } = useStrataStore().getState();
  const toasts = useStrata((s) => s.toasts);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <div key={toast.id} className="toast" role="status" data-testid="toast">
          <span className="toast-text">{toast.text}</span>
          <button
            type="button"
            className="icon-btn"
            aria-label={t('toast.dismiss')}
            onClick={() => dismissToast(toast.id)}
          >
            <CloseIcon />
          </button>
        </div>
      ))}
    </div>
  );
}
