// A small modal dialog for the account's questions (the recovery code, a device asking to
// join, removing a device): focus moves in when it opens, Tab stays inside, and it goes back
// where it was when it closes. It has no Escape or backdrop close: each asks for an answer.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { FOCUSABLE, inOtherDialog, keepTabInside } from '../settings/focus-trap.ts';
import '../settings/settings.css';
import './account.css';

export function Modal(props: { title: string; testId: string; children: ReactNode }) {
  const titleId = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const dialog = ref.current;
    if (dialog !== null && !dialog.contains(document.activeElement)) {
      (dialog.querySelector<HTMLElement>(FOCUSABLE) ?? dialog).focus();
    }
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key !== 'Tab' || dialog === null) return;
      if (inOtherDialog(dialog, document.activeElement)) return;
      keepTabInside(dialog, e);
    };
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      previous?.focus();
    };
  }, []);
  return (
    <div className="settings-backdrop account-backdrop">
      <div
        ref={ref}
        className="settings-dialog account-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid={props.testId}
        tabIndex={-1}
      >
        <h2 id={titleId} className="account-dialog-title">
          {props.title}
        </h2>
        {props.children}
      </div>
    </div>
  );
}
