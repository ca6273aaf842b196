// The folder rules of eslint.config.js are part of the architecture: prove they bite.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals')
    .map((m) => m.message);
}

describe('where code may run', () => {
  it.each([
    ['src/core/x.ts', "import { app } from 'electron';\nvoid app;\n"],
    ['src/shared/x.ts', "import { readFileSync } from 'node:fs';\nvoid readFileSync;\n"],
    ['src/shared/x.ts', 'export const b = Buffer.alloc(1);\n'],
    ['relay/x.ts', "import { useState } from 'react';\nvoid useState;\n"],
    ['src/renderer/src/x.ts', "import { join } from 'path';\nvoid join;\n"],
    ['src/renderer/src/x.ts', "import { Relay } from '../../../relay/relay.ts';\nvoid Relay;\n"],
    ['src/preload/x.ts', "import { readFileSync } from 'fs';\nvoid readFileSync;\n"],
    // The engine and the relay are separate programs; src/node serves both and neither.
    ['relay/x.ts', "import '../src/core/connection.ts';\n"],
    [
      'relay/channel/x.ts',
      "import { Messenger } from '../../src/core/messenger.ts';\nvoid Messenger;\n",
    ],
    ['src/core/x.ts', "import { Relay } from '../../relay/relay.ts';\nvoid Relay;\n"],
    [
      'src/core/store/x.ts',
      "import { RelayStore } from '../../../relay/store.ts';\nvoid RelayStore;\n",
    ],
    ['src/node/x.ts', "import { Relay } from '../../relay/relay.ts';\nvoid Relay;\n"],
    [
      'src/node/x.ts',
      "import { Transport } from '../core/transport/transport.ts';\nvoid Transport;\n",
    ],
  ])('%s refuses %j', async (file, code) => {
    expect(await restrictedImports(file, code)).not.toEqual([]);
  });

  it.each([
    ['src/core/x.ts', "import { readFileSync } from 'node:fs';\nvoid readFileSync;\n"],
    ['src/main/x.ts', "import { app } from 'electron';\nvoid app;\n"],
    ['src/renderer/src/x.ts', "import { useState } from 'react';\nvoid useState;\n"],
    ['src/shared/x.ts', 'export const t = new TextEncoder();\n'],
    ['relay/x.ts', "import '../src/node/native-crc32.ts';\n"],
    [
      'relay/x.ts',
      "import { decodeFrame } from '../src/shared/protocol/index.ts';\nvoid decodeFrame;\n",
    ],
    ['src/core/x.ts', "import '../node/native-crc32.ts';\n"],
    ['src/node/x.ts', "import { crc32 } from '../shared/protocol/crc32.ts';\nvoid crc32;\n"],
  ])('%s allows %j', async (file, code) => {
    expect(await restrictedImports(file, code)).toEqual([]);
  });
});

describe('layers', () => {
  it.each([
    [
      'src/core/transport/x.ts',
      "import { FileSource } from '../files/source.ts';\nvoid FileSource;\n",
    ],
    [
      'src/core/transport/x.ts',
      "import type { FileView } from '../files/transfers.ts';\nexport type F = FileView;\n",
    ],
    ['src/core/transport/x.ts', "export * from '../files/partial.ts';\n"],
    [
      'src/core/transport/sub/x.ts',
      "import { checkRoom } from '../../files/disk.ts';\nvoid checkRoom;\n",
    ],
    ['src/core/transport/x.ts', "import { app } from 'electron';\nvoid app;\n"],
    [
      'src/core/transport/x.ts',
      "import { ChunkCipher } from '../crypto/content.ts';\nvoid ChunkCipher;\n",
    ],
  ])('%s refuses %j', async (file, code) => {
    expect(await restrictedImports(file, code)).not.toEqual([]);
  });

  it.each([
    [
      'src/core/files/x.ts',
      "import type { StreamSink } from '../transport/stream.ts';\nexport type S = StreamSink;\n",
    ],
    [
      'src/core/transport/x.ts',
      "import { AckScheduler } from './ack-ranges.ts';\nvoid AckScheduler;\n",
    ],
  ])('%s allows %j', async (file, code) => {
    expect(await restrictedImports(file, code)).toEqual([]);
  });
});
