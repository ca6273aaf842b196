export * from './constants.ts';
export * from './crc32.ts';
export * from './frames.ts';
export * from './names.ts';
export * from './file.ts';
