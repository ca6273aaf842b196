// Failures and refusals that reach the UI as codes, said in the UI's language: a file's failure
// (src/shared/failures.ts), an error event from the engine or the relay (its protocol error
// code), and why the link to the relay closed (its WebSocket close code).
import { fileFailure, type FileFailure } from '../../../shared/failures.ts';
import { ERROR_CODES } from '../../../shared/protocol/constants.ts';
import type { Language, StringKey, Translate } from '../i18n.ts';
import { formatSize } from './files.ts';

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A size the core wrote in English ("12.0 MiB", "1000") in the UI's words; else as it is. */
function sizeText(text: string | undefined, language: Language): string {
  const m = /^(\d+(?:\.\d+)?)(?: (\w+))?$/.exec(text ?? '');
  const power = SIZE_UNITS.indexOf(m?.[2] ?? 'B');
  if (m === null || power < 0) return text ?? '';
  return formatSize(Math.round(Number(m[1]) * 1024 ** power), language);
}

const isRelayCode = (code: string): code is keyof typeof ERROR_CODES =>
  Object.hasOwn(ERROR_CODES, code);

/** Why the relay refused, from its protocol error code. */
export function relayReason(code: string, t: Translate): string {
  return t(isRelayCode(code) ? `relayError.${code}` : 'relayError.other');
}

/** Why a file failed. */
export function describeFileFailure(reason: FileFailure, t: Translate, language: Language): string {
  const v: Readonly<Record<string, string>> = reason.vars;
  switch (reason.code) {
    case 'other':
      return reason.vars.text;
    case 'relayRefusedAs':
      return t('failure.relayRefused', { why: relayReason(v['relayCode'] ?? '', t) });
    case 'relayRefused':
      return t('failure.relayRefused', { why: t('relayError.other') });
    case 'noRoom':
    case 'noRoomInFlight':
      return t('failure.noRoom', {
        need: sizeText(v['need'], language),
        have: sizeText(v['have'], language),
      });
    case 'tooLarge':
      return t('failure.tooLarge', { limit: sizeText(v['limit'], language) });
    default:
      return t(`failure.${reason.code}` satisfies StringKey, v);
  }
}

/** An error event of the engine (a relay's refusal, a file that failed) as a notice. */
export function describeEngineError(
  event: { code: string; text: string },
  peer: string | null,
  t: Translate,
  language: Language,
): string {
  if (event.code === 'fileFailed') {
    return t('error.fileFailed', {
      why: describeFileFailure(fileFailure(event.text), t, language),
    });
  }
  if (event.code === 'fileWriteFailed') return t('error.fileWriteFailed');
  if (!isRelayCode(event.code)) return event.text;
  const why = relayReason(event.code, t);
  return peer === null ? t('relayError.toast', { why }) : t('relayError.toPeer', { peer, why });
}

/** The engine's words when the relay's certificate is not the pinned one (core/relay-pin.ts). */
const CERTIFICATE_CHANGED =
  /^the relay's certificate changed: expected sha256 ([0-9a-f]{64}) .*got ([0-9a-f]{64})/;

const CLOSE_CODES = new Set(['1000', '1001', '1006', '1008', '1011', '4000']);

/**
 * Why the link to the relay is down, from the engine's detail: "<close code> <reason>" (the
 * relay's reason is for logs; the code says it for the user).
 */
export function describeClose(detail: string, t: Translate): string {
  const changed = CERTIFICATE_CHANGED.exec(detail);
  if (changed) return t('close.certificateChanged', { expected: changed[1]!, got: changed[2]! });
  const code = /^(\d{4})\b/.exec(detail)?.[1];
  if (code === undefined) return t('close.unknown');
  return CLOSE_CODES.has(code) ? t(`close.${code}` as StringKey) : t('close.other', { code });
}
