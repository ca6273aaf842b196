// The command-line client's exit codes, so that scripts can tell failures apart (README).
export const EXIT = { ok: 0, usage: 2, unreachable: 3, failed: 4, refused: 5, timeout: 6 } as const;
