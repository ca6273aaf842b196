// `strata` command-line processes against one relay, as users run them: a command run to its
// end, or a long-running one (listen, link-code) whose stdout lines are collected as they come.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Background {
  lines: string[];
  exited: Promise<number | null>;
  stderr(): string;
  /** Resolves with the first line that `test` accepts, seen or yet to come. */
  line(test: (line: string) => boolean): Promise<string>;
  stop(): Promise<number | null>;
}

export function cliProcesses(relayUrl: () => string) {
  const running: ChildProcess[] = [];
  const args = (profile: string, more: string[]) => [
    BIN,
    '--profile',
    profile,
    '--relay',
    relayUrl(),
    ...more,
  ];
  return {
    /** Runs `strata --relay URL ARGS` to its end (without blocking the test's event loop). */
    strata(profile: string, ...more: string[]): Promise<Run> {
      const p = spawn(process.execPath, args(profile, more));
      let stdout = '';
      let stderr = '';
      p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      return new Promise((resolve) =>
        p.once('close', (status) => resolve({ status, stdout, stderr })),
      );
    },

    /** A long-running `strata` whose stdout lines are collected as they come. */
    background(profile: string, ...more: string[]): Background {
      const p = spawn(process.execPath, args(profile, more));
      running.push(p);
      const lines: string[] = [];
      let waiters: (() => boolean)[] = [];
      createInterface({ input: p.stdout }).on('line', (line) => {
        lines.push(line);
        waiters = waiters.filter((check) => !check());
      });
      let stderr = '';
      p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      const exited = new Promise<number | null>((resolve) => p.once('close', resolve));
      return {
        lines,
        exited,
        stderr: () => stderr,
        line(test) {
          return new Promise((resolve) => {
            const check = () => {
              const found = lines.find(test);
              if (found !== undefined) resolve(found);
              return found !== undefined;
            };
            if (!check()) waiters.push(check);
          });
        },
        stop() {
          p.kill('SIGTERM');
          return exited;
        },
      };
    },

    /** Ends the long-running processes still running. */
    stopAll(): void {
      for (const p of running) if (p.exitCode === null) p.kill('SIGTERM');
    },
  };
}
