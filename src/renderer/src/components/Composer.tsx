// Writing a message: Enter sends, Shift+Enter starts a new line, the field grows up to about
// eight lines. The draft stays with its chat. The peer sees "typing" while keys come. The
// paper clip picks files to send (several at once). It is disabled while the peer's safety
// number changed since the user verified it (nothing goes to them until accepted).
import { useEffect, useMemo, useRef, type KeyboardEvent } from 'react';
import { MAX_TEXT_CHARS } from '../../../shared/contract.ts';
import { useT } from '../i18n.ts';
import { TypingNotifier } from '../model/typing.ts';
import { describeError } from '../errors.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import { identityBlocked } from '../store/safety.ts';
import { AttachIcon, SendIcon } from './Icons.tsx';

export function Composer({ peer }: { peer: string }) {
  const t = useT();
  const store = useStrataStore();
  const { sendFiles, sendText, sendTextAsFile, setDraft, setTyping, showToast } = store.getState();
  // A text over the limit can go as a file where the host takes files made in the page.
  const canSendAsFile = useStrata((s) => s.phase.kind === 'ready' && s.phase.api.stagesPageFiles);
  const draft = useStrata((s) => s.drafts[peer] ?? '');
  const blocked = useStrata((s) => identityBlocked(s, peer));
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const typing = useMemo(() => new TypingNotifier((on) => setTyping(peer, on)), [peer]);

  // Leaving the chat ends "typing" for it.
  useEffect(() => () => typing.stop(), [typing]);

  useEffect(() => {
    inputRef.current?.focus();
  }, [peer]);

  const tooLong = draft.length > MAX_TEXT_CHARS;
  const empty = draft.trim() === '';

  async function send() {
    if (empty || tooLong || blocked) return;
    const text = draft;
    typing.stop();
    setDraft(peer, '');
    try {
      await sendText(peer, text);
    } catch (e) {
      // Not accepted: the text comes back unless something new was typed meanwhile.
      if ((store.getState().drafts[peer] ?? '') === '') setDraft(peer, text);
      showToast(t('composer.sendFailed', { detail: describeError(e, t) }));
    }
    inputRef.current?.focus();
  }

  async function sendAsFile() {
    if (blocked) return;
    const text = draft;
    typing.stop();
    // The text stays in the field until the host has taken the file (and if it does not).
    if ((await sendTextAsFile(peer, text)) && store.getState().drafts[peer] === text) {
      setDraft(peer, '');
    }
    inputRef.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  }

  return (
    <div className="composer">
      <input
        ref={fileRef}
        type="file"
        multiple
        hidden
        data-testid="composer-file-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          // Picking the same file again must fire again.
          e.target.value = '';
          if (files.length > 0) void sendFiles(peer, files);
        }}
      />
      <button
        type="button"
        className="icon-btn"
        data-testid="composer-attach"
        disabled={blocked}
        aria-label={t('composer.attach')}
        title={t('composer.attachHint')}
        onClick={() => fileRef.current?.click()}
      >
        <AttachIcon />
      </button>
      <div className="composer-field">
        <textarea
          ref={inputRef}
          className="composer-input"
          data-testid="composer-input"
          rows={1}
          value={draft}
          disabled={blocked}
          placeholder={
            blocked ? t('safety.composerBlocked', { name: peer }) : t('composer.placeholder')
          }
          aria-label={t('composer.label', { name: peer })}
          aria-invalid={tooLong}
          onChange={(e) => {
            const text = e.target.value;
            setDraft(peer, text);
            if (text.trim() === '') typing.stop();
            else typing.input();
          }}
          onKeyDown={onKeyDown}
          onBlur={() => typing.stop()}
        />
        {tooLong && (
          <span className="composer-limit" role="alert" data-testid="composer-limit">
            {t('composer.tooLong', { n: draft.length - MAX_TEXT_CHARS })}
            {canSendAsFile && (
              <button
                type="button"
                className="btn btn-small composer-as-file"
                data-testid="composer-send-as-file"
                onClick={() => void sendAsFile()}
              >
                {t('composer.sendAsFile')}
              </button>
            )}
          </span>
        )}
      </div>
      <button
        type="button"
        className="send-btn"
        data-testid="composer-send"
        disabled={empty || tooLong || blocked}
        aria-label={t('composer.send')}
        title={t('composer.sendHint')}
        onClick={() => void send()}
      >
        <SendIcon />
      </button>
    </div>
  );
}
