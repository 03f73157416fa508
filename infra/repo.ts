import * as path from 'node:path';

/** The repository root: synth reads the bot's entry point, the runner's build context and the SSM script under it. */
export const REPO_ROOT = path.resolve(__dirname, '..');
