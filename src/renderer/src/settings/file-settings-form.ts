// The Files part of Settings: the downloads folder as typed (an absolute path, on any system)
// the largest file and the auto-download size in MB (1 MB = 1,048,576 bytes), and the patch of
// what changed.
import type { FileSettingsView } from '../../../shared/contract.ts';
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
  downloadsDir: string;
  maxFileMb: string;
  autoDownloadMb: string;
}

export type FileSettingsErrors = {
  downloadsDir?: 'empty' | 'notAbsolute';
  maxFileMb?: NumberFieldError;
  autoDownloadMb?: NumberFieldError;
};

export function fileSettingsForm(files: FileSettingsView): FileSettingsForm {
  return {
    downloadsDir: files.downloadsDir,
    maxFileMb: formatNumberField(files.maxFileBytes / MIB),
    autoDownloadMb: formatNumberField(files.autoDownloadBytes / MIB),
  };
}

/** POSIX (/home/a), Windows drive (C:\a, C:/a) or UNC (\\server\share) absolute paths. */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\');
}

export type FileSettingsResult =
  { ok: true; patch: Partial<FileSettingsView> } | { ok: false; errors: FileSettingsErrors };

export function fileSettingsPatch(
  current: FileSettingsView,
  form: FileSettingsForm,
): FileSettingsResult {
  const errors: FileSettingsErrors = {};
  const patch: Partial<FileSettingsView> = {};
  const dir = form.downloadsDir.trim();
  if (dir === '') errors.downloadsDir = 'empty';
  else if (!isAbsolutePath(dir)) errors.downloadsDir = 'notAbsolute';
  else if (dir !== current.downloadsDir) patch.downloadsDir = dir;
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
