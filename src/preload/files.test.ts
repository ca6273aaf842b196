import { describe, expect, it } from 'vitest';
import { createFiles } from './files.ts';

describe('createFiles', () => {
  const webUtils = {
    seen: [] as File[],
    // Like Electron's: throws for anything that is not a File.
    getPathForFile(file: File): string {
      if (!(file instanceof File)) throw new TypeError('Error processing argument at index 0');
      this.seen.push(file);
      return file.name === 'pasted.png' ? '' : `/home/amy/${file.name}`;
    },
  };

  it('resolves a chosen File to its path through webUtils', () => {
    const files = createFiles(webUtils);
    const file = new File(['x'], 'notes.txt');
    expect(files.pathForFile(file)).toBe('/home/amy/notes.txt');
    expect(webUtils.seen.at(-1)).toBe(file);
  });

  it('answers null for a File no file on disk backs', () => {
    expect(createFiles(webUtils).pathForFile(new File(['x'], 'pasted.png'))).toBeNull();
  });

  it('grants main exactly the paths it resolved, so that only those can be sent', () => {
    const granted: string[] = [];
    const files = createFiles(webUtils, (p) => granted.push(p));
    files.pathForFile(new File(['x'], 'a.txt'));
    files.pathForFile(new File(['x'], 'pasted.png'));
    expect(() => files.pathForFile({ name: 'b.txt' } as File)).toThrow(TypeError);
    expect(granted).toEqual(['/home/amy/a.txt']);
  });

  it('refuses anything but a File with a clear TypeError', () => {
    const files = createFiles(webUtils);
    const before = webUtils.seen.length;
    expect(() => files.pathForFile({ name: 'notes.txt' } as File)).toThrow(
      new TypeError('pathForFile needs a File the user dropped or picked'),
    );
    expect(() => files.pathForFile('/etc/passwd' as unknown as File)).toThrow(TypeError);
    expect(webUtils.seen.length).toBe(before);
  });

  it('is frozen: the page cannot swap the function', () => {
    expect(Object.isFrozen(createFiles(webUtils))).toBe(true);
  });
});
