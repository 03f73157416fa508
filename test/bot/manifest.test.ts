import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const manifest = parse(readFileSync(join(__dirname, '../../bot/manifest.yml'), 'utf8')) as {
  features: { slash_commands: { command: string; url: string; usage_hint: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url: string }; socket_mode_enabled: boolean };
};

test('the manifest declares /snowwhite, interactivity on the same URL, and the least scopes', () => {
  const [command] = manifest.features.slash_commands;
  expect(command!.command).toBe('/snowwhite');
  expect(command!.usage_hint).toContain('<env-pattern> <eb-application> <region>');
  expect(manifest.settings.interactivity.is_enabled).toBe(true);
  expect(manifest.settings.interactivity.request_url).toBe(command!.url);
  expect(command!.url).toMatch(/^https:\/\/.+\/slack\/events$/);
  expect(manifest.settings.socket_mode_enabled).toBe(false);
  expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([
    'chat:write',
    'commands',
    'files:write',
    'im:write',
  ]);
});
