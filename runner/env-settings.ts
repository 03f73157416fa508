import * as z from 'zod';

/** Settings that are missing or invalid, each named (never its value). */
export class SettingsError extends Error {
  constructor(
    readonly program: string,
    readonly problems: string[],
  ) {
    super(`${program}: invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

/**
 * Reads a program's settings from environment variables through a zod schema whose keys are the
 * variable names. Fails fast with every missing or invalid variable named at once, never its value
 * (values may be secrets).
 */
export function loadSettings<S extends z.ZodType>(
  program: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  // An empty variable counts as unset: `FOO=` in a task definition is almost always a mistake.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.length ? issue.path.join('.') : '(settings)';
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    if (missing) return `${name} is missing`;
    return issue.message.startsWith('is ') ? `${name} ${issue.message}` : `${name}: ${issue.message}`;
  });
  throw new SettingsError(program, problems);
}

/** `a,b, c` → ['a','b','c']; for subnet and security-group lists. */
export const commaList = (itemPattern: RegExp, what: string) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().regex(itemPattern, `each item must be ${what}`))
        .min(1, `needs at least one ${what}`),
    );

export const ssmDocumentNamesSchema = {
  SSM_DOCUMENT_QUIET: z.string().regex(/^[\w.-]{3,128}$/, 'not an SSM document name'),
  SSM_DOCUMENT_STOP: z.string().regex(/^[\w.-]{3,128}$/, 'not an SSM document name'),
  SSM_DOCUMENT_WAKE: z.string().regex(/^[\w.-]{3,128}$/, 'not an SSM document name'),
  SSM_DOCUMENT_STATUS: z.string().regex(/^[\w.-]{3,128}$/, 'not an SSM document name'),
};
