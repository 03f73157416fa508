import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { regionSchema } from '../request';

// What `snowwhite setup` remembers: which stack is Snow White and which region it lives in, so a
// teammate whose AWS profile points at another region still reaches it. One small JSON file.

export const savedConfigSchema = z.object({
  stack: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/),
  stackRegion: regionSchema,
});
export type SavedConfig = z.infer<typeof savedConfigSchema>;

export interface ConfigStore {
  /** Where the file is (for messages). */
  path: string;
  /** The saved settings; undefined when there is no file. A file that does not parse is an error. */
  read(): Promise<SavedConfig | undefined>;
  write(config: SavedConfig): Promise<void>;
}

/**
 * $SNOWWHITE_CONFIG, else $XDG_CONFIG_HOME/snowwhite/config.json, else $HOME/.config/snowwhite/config.json;
 * undefined when the environment names none of them (only from the environment given, so a test's
 * made-up environment never reads the machine's own file).
 */
export function configPath(env: NodeJS.ProcessEnv): string | undefined {
  if (env.SNOWWHITE_CONFIG) return env.SNOWWHITE_CONFIG;
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  return base ? join(base, 'snowwhite', 'config.json') : undefined;
}

/** The file store at `path`; with no path, one that holds nothing and cannot save. */
export function configStoreFor(path: string | undefined): ConfigStore {
  if (path !== undefined) return fileConfigStore(path);
  return {
    path: '(none)',
    read: async () => undefined,
    write: async () => {
      throw new Error('no HOME, XDG_CONFIG_HOME or SNOWWHITE_CONFIG to save the config in');
    },
  };
}

export function fileConfigStore(path: string): ConfigStore {
  return {
    path,
    async read() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const parsed = savedConfigSchema.safeParse(json);
      if (!parsed.success)
        throw new Error(`${path} is not a snowwhite config: run \`snowwhite setup\` again, or delete it`);
      return parsed.data;
    },
    async write(config) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Through a temporary file and a rename: a reader never sees half a file.
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(savedConfigSchema.parse(config), null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, path);
    },
  };
}
