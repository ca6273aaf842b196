// @ts-check
// Where code may run is part of the architecture (docs/architecture.md): each folder may
// import only what its runtime provides. These rules keep the folders honest.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import prettier from 'eslint-config-prettier';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

const electron = {
  group: ['electron', 'electron/*'],
  message: 'Electron belongs in src/main and src/preload only.',
};
const dom = {
  group: ['react', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*'],
  message: 'UI libraries belong in src/renderer only.',
};
const node = {
  group: [...nodeBuiltins, 'better-sqlite3', 'ws'],
  message: 'Node modules are not available here: this code runs in a browser or anywhere.',
};
const core = {
  group: ['**/core/**', '**/relay/**', '**/main/**'],
  message: 'The renderer reaches the core only through the API contract in src/shared.',
};
// The app's engine and the relay are separate programs: what both need lives in src/shared
// (anywhere) or src/node (Node only), never in one of them.
const relay = {
  group: ['**/relay/**'],
  message: 'src/core may not import the relay: share code through src/shared or src/node.',
};
const engine = {
  group: ['**/src/core/**'],
  message: 'The relay may not import src/core: share code through src/shared or src/node.',
};
const appOrRelay = {
  group: ['**/core/**', '**/relay/**'],
  message: 'src/node is shared by the engine and the relay: it imports neither.',
};
const files = {
  group: ['**/files', '**/files/**'],
  message:
    'The transport moves segments and knows nothing of files: src/core/files implements its stream interfaces (transport/stream.ts).',
};

const crypto = {
  group: ['**/crypto', '**/crypto/**'],
  message:
    'The transport moves ciphertext and holds no key: sealing and opening live in src/core/crypto, above it.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'out/',
      'dist/',
      'bench/results/',
      'relay-data/',
      'test-results/',
      'playwright-report/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Runs anywhere: the relay, the core, the renderer and the tests share it.
    files: ['src/shared/**'],
    languageOptions: { globals: { ...globals['shared-node-browser'] } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [electron, dom, node] }],
      'no-restricted-globals': ['error', 'Buffer', 'process', 'window', 'document', 'require'],
    },
  },
  {
    // Node only: no Electron, no DOM.
    files: ['src/core/**', 'src/cli/**', 'src/node/**', 'relay/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [electron, dom] }],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator'],
    },
  },
  {
    files: ['src/core/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electron, dom, relay] }] },
  },
  {
    files: ['relay/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electron, dom, engine] }] },
  },
  {
    files: ['src/node/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electron, dom, appOrRelay] }] },
  },
  {
    // The transport layer sits below the files and the sealing: both import the transport,
    // never back.
    // (Flat config replaces a rule's options per file, so src/core's patterns come along.)
    files: ['src/core/transport/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [electron, dom, relay, files, crypto] }],
    },
  },
  {
    // The browser: no Node, no Electron, no direct reach into the core.
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [electron, node, core] }],
      'no-restricted-globals': ['error', 'Buffer', 'process', 'require', '__dirname'],
    },
  },
  {
    // The sandboxed preload may use Electron's renderer-side modules and nothing of Node.
    files: ['src/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [dom, node] }],
    },
  },
);
