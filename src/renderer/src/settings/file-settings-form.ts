// The Files part of Settings: the largest file and the auto-download size in MB (1 MB =
// 1,048,576 bytes), and the patch of what changed. The downloads folder is no field of it: it
// is chosen in the system's folder picker (desktop app) or given on the command line (browser
// host), never typed in the page.
import type { FileSettingsPatch, FileSettingsView } from '../../../shared/contract.ts';
import {
  formatNumberField,
  parseNumberField,
  type NumberFieldError,
  type NumberRule,
} from './number-field.ts';

export const MIB = 1024 * 1024;
/** From 1 MB to 1 TB; fractions of a MB are allowed (0.5 is not: below the minimum). */
export const MAX_FILE_MB_RULE: NumberRule = { min: 1, max: 1024 * 1024, integer: false };
/** From 0 (every file waits for a click) to 1 TB. */
export const AUTO_DOWNLOAD_MB_RULE: NumberRule = { min: 0, max: 1024 * 1024, integer: false };

export interface FileSettingsForm {
  maxFileMb: string;
  autoDownloadMb: string;
}

export type FileSettingsErrors = {
  maxFileMb?: NumberFieldError;
  autoDownloadMb?: NumberFieldError;
};

export function fileSettingsForm(files: FileSettingsView): FileSettingsForm {
  return {
    maxFileMb: formatNumberField(files.maxFileBytes / MIB),
    autoDownloadMb: formatNumberField(files.autoDownloadBytes / MIB),
  };
}

export type FileSettingsResult =
  { ok: true; patch: FileSettingsPatch } | { ok: false; errors: FileSettingsErrors };

export function fileSettingsPatch(
  current: FileSettingsView,
  form: FileSettingsForm,
): FileSettingsResult {
  const errors: FileSettingsErrors = {};
  const patch: FileSettingsPatch = {};
  const sizes = [
    ['maxFileMb', 'maxFileBytes', MAX_FILE_MB_RULE],
    ['autoDownloadMb', 'autoDownloadBytes', AUTO_DOWNLOAD_MB_RULE],
  ] as const;
  for (const [field, setting, rule] of sizes) {
    const mb = parseNumberField(form[field], rule);
    if (!mb.ok) errors[field] = mb.error;
    else {
      const bytes = Math.round(mb.value * MIB);
      if (bytes !== current[setting]) patch[setting] = bytes;
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, patch };
}
