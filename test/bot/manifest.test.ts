import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const manifest = parse(readFileSync(join(__dirname, '../../bot/manifest.yml'), 'utf8')) as {
  features: {
    slash_commands: { command: string; url: string; usage_hint: string }[];
    app_home: { home_tab_enabled: boolean };
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    interactivity: { is_enabled: boolean; request_url: string };
    event_subscriptions: { request_url: string; bot_events: string[] };
    socket_mode_enabled: boolean;
  };
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

test('App Home: the Home tab on, app_home_opened subscribed on the same URL, no extra scope', () => {
  const [command] = manifest.features.slash_commands;
  expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  expect(manifest.settings.event_subscriptions.request_url).toBe(command!.url);
  expect(manifest.settings.event_subscriptions.bot_events).toEqual(['app_home_opened']);
  expect(command!.usage_hint).toContain('history');
});
