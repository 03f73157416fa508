import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { parse } from 'yaml';

/** The request URL bot/manifest.yml is written with, for people reading it in the repository. */
export const MANIFEST_URL_PLACEHOLDER = 'https://API_ID.execute-api.REGION.amazonaws.com/slack/events';

/** Pure: the manifest with every placeholder request URL (commands, interactivity, events) replaced. */
export function manifestWithUrl(manifest: unknown, requestUrl: string): unknown {
  if (manifest === MANIFEST_URL_PLACEHOLDER) return requestUrl;
  if (Array.isArray(manifest)) return manifest.map((m) => manifestWithUrl(m, requestUrl));
  if (typeof manifest === 'object' && manifest !== null)
    return Object.fromEntries(Object.entries(manifest).map(([k, v]) => [k, manifestWithUrl(v, requestUrl)]));
  return manifest;
}

/**
 * The finished Slack app manifest for this stack, as JSON (Slack takes JSON or YAML): bot/manifest.yml
 * with the stack's request URL, so nobody edits the tracked file to create the app.
 */
export function slackManifestJson(scope: Construct, requestUrl: string): string {
  const yamlText = readFileSync(path.join(__dirname, '..', '..', 'bot', 'manifest.yml'), 'utf8');
  return Stack.of(scope).toJsonString(manifestWithUrl(parse(yamlText), requestUrl));
}
