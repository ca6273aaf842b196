// Strata is AGPL-3.0-only because @signalapp/libsignal-client is: LICENSE must hold the FSF's
// text of that license unaltered, and package.json (what npm and electron-builder read) must
// name the same license.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const readJson = (path: string): { license?: string } =>
  JSON.parse(readFileSync(`${ROOT}/${path}`, 'utf8')) as { license?: string };

// SHA-256 of https://www.gnu.org/licenses/agpl-3.0.txt (34,523 bytes), the file GitHub and
// libsignal's acknowledgments carry.
const AGPL_3_0_SHA256 = '0d96a4ff68ad6d4b6f1f30f713b18d5184912ba8dd389f86aa7710db079abcb0';
const TITLE = '                    GNU AFFERO GENERAL PUBLIC LICENSE\n';

function licenseFile(): { header: string; text: string } {
  const file = readFileSync(`${ROOT}/LICENSE`, 'utf8');
  const start = file.indexOf(TITLE);
  expect(start, 'LICENSE has no "GNU AFFERO GENERAL PUBLIC LICENSE" title').toBeGreaterThan(0);
  return { header: file.slice(0, start), text: file.slice(start) };
}

describe('the license', () => {
  it('LICENSE is the verbatim GNU AGPL version 3, after a short Strata header', () => {
    const { header, text } = licenseFile();
    expect(text.split('\n', 2)[1]).toBe('                       Version 3, 19 November 2007');
    // Sections 0 to 17 in order; 13 is what sets the AGPL apart from the GPL.
    const sections = [...text.matchAll(/^ {2}(\d+)\. /gm)].map((m) => Number(m[1]));
    expect(sections).toEqual(Array.from({ length: 18 }, (_, i) => i));
    expect(text).toContain(
      '  13. Remote Network Interaction; Use with the GNU General Public License.',
    );
    expect(text).toContain('How to Apply These Terms to Your New Programs');
    expect(text.endsWith('see\n<https://www.gnu.org/licenses/>.\n')).toBe(true);
    // Not one byte changed: the header is Strata's, the rest is the FSF's.
    expect(createHash('sha256').update(text).digest('hex')).toBe(AGPL_3_0_SHA256);
    expect(header).toMatch(
      /^Strata\nCopyright \(C\) \d{4} .+\n\nSPDX-License-Identifier: \S+\n\n$/,
    );
  });

  it("package.json's license is the one LICENSE declares, and the one libsignal requires", () => {
    const declared = /^SPDX-License-Identifier: (\S+)$/m.exec(licenseFile().header)?.[1];
    expect(declared).toBe('AGPL-3.0-only');
    expect(readJson('package.json').license).toBe(declared);
    expect(readJson('node_modules/@signalapp/libsignal-client/package.json').license).toBe(
      declared,
    );
  });
});
