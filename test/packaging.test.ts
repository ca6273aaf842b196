// electron-builder.yml cannot be exercised here (packaging downloads Electron), so this checks
// it the way electron-builder does before it builds anything: loaded and validated against its
// schema, and holding what the app needs at run time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// electron-builder's own loader and validator (app-builder-lib, installed with electron-builder
// at the same exact version).
const fromBuilder = createRequire(
  createRequire(import.meta.url).resolve('electron-builder/package.json'),
);
const { getConfig, validateConfiguration } = fromBuilder(
  'app-builder-lib/out/util/config/config.js',
) as {
  getConfig(dir: string, path: string | null, extra: null): Promise<Record<string, unknown>>;
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = fromBuilder('builder-util') as {
  DebugLogger: new (enabled: boolean) => unknown;
};

describe('electron-builder.yml', () => {
  it('passes electron-builder validation and packs what the app runs', async () => {
    const config = await getConfig(ROOT, null, null);
    await validateConfiguration(config, new DebugLogger(false));
    expect(config['appId']).toBe('org.strata.app');
    expect(config['productName']).toBe('Strata');
    const files = (config['files'] as { filter: string[] }[])[0]!.filter;
    expect(files).toEqual(expect.arrayContaining(['out/**', 'package.json']));
    // The AGPL's text goes with every copy: LICENSE next to the executable.
    expect(config['extraFiles']).toEqual([{ filter: ['LICENSE'] }]);
    expect(config['asarUnpack']).toEqual(['**/*.node']);
    expect(config['npmRebuild']).toBe(false);
    const linux = config['linux'] as { target: string[]; icon: string };
    expect(linux.target).toEqual(['AppImage', 'deb']);
    // A real PNG of 512×512 (electron-builder does not take the SVG on Linux).
    const png = readFileSync(`${ROOT}/${linux.icon}`);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
  });

  it('ships better-sqlite3 as a Node-API prebuild, so that no rebuild for Electron is needed', () => {
    const loader = readFileSync(`${ROOT}/node_modules/better-sqlite3/lib/linux-x64.js`, 'utf8');
    expect(loader).toContain("require('../prebuilds/linux-x64.node')");
    const pkg = JSON.parse(
      readFileSync(`${ROOT}/node_modules/better-sqlite3/package.json`, 'utf8'),
    ) as {
      dependencies?: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies ?? {})).toContain('node-addon-api');
  });
});
