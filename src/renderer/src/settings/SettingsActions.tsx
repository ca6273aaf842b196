// The foot of a settings form: its Save button and what became of the last save.
import { useT, type Translate } from '../i18n.ts';

/** What became of a save, in words of the current language (it follows a change of language). */
export type SaveStatus = { kind: 'idle' | 'busy' | 'ok' | 'error'; say: (t: Translate) => string };

/** `testId` names the pair: `${testId}-save` and `${testId}-status`. */
export function SettingsActions({ status, testId }: { status: SaveStatus; testId: string }) {
  const t = useT();
  return (
    <div className="settings-actions">
      <button
        type="submit"
        className="btn btn-primary"
        data-testid={`${testId}-save`}
        aria-disabled={status.kind === 'busy'}
      >
        {t('settings.save')}
      </button>
      <span
        className={`settings-status ${status.kind}`}
        data-testid={`${testId}-status`}
        data-state={status.kind}
        role={status.kind === 'error' ? 'alert' : 'status'}
      >
        {status.say(t)}
      </span>
    </div>
  );
}
