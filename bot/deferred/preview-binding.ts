import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { TargetEnvironment, TargetPreview } from '../../runner/aws/environments';

/**
 * A prompt's Confirm is bound to what the prompt showed: per environment, its id, how many instances
 * and a digest of their ids, signed into the button's value. At Confirm the targets are resolved again
 * and the run goes ahead only when this binding is the same; otherwise nothing is done and a new
 * prompt says what changed. Pure.
 */

/** Environments one prompt may show: each costs about 30 of the button value's 2,000 characters. */
export const MAX_PROMPT_ENVIRONMENTS = 40;

const ENTRY = /^([A-Za-z0-9-]{1,64}):(\d{1,5}):([0-9a-f]{12})$/;
export const previewBindingSchema = z
  .array(z.string().regex(ENTRY, 'not a previewed environment'))
  .min(1)
  .max(MAX_PROMPT_ENVIRONMENTS);
export type PreviewBinding = z.infer<typeof previewBindingSchema>;

const digestOf = (instanceIds: readonly string[]) =>
  createHash('sha256')
    .update([...instanceIds].sort().join('\n'))
    .digest('hex')
    .slice(0, 12);

export function bindingOf(preview: TargetPreview): PreviewBinding {
  return [...preview.environments]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((e) => `${e.id}:${e.instanceIds.length}:${digestOf(e.instanceIds)}`);
}

/** The preview narrowed to `instanceIds` (a Retry): environments left with none are dropped. */
export function narrowPreview(
  preview: TargetPreview,
  instanceIds: readonly string[] | undefined,
): TargetPreview {
  if (!instanceIds) return preview;
  const wanted = new Set(instanceIds);
  const environments: TargetEnvironment[] = preview.environments
    .map((e) => {
      const ids = e.instanceIds.filter((id) => wanted.has(id));
      return { ...e, instanceIds: ids, instanceCount: ids.length };
    })
    .filter((e) => e.instanceIds.length > 0);
  return { ...preview, environments, totalInstances: environments.reduce((n, e) => n + e.instanceCount, 0) };
}

export interface BindingChange {
  /** Environments there now that the prompt did not show (names). */
  added: string[];
  /** Environment ids the prompt showed that are gone (or no longer match). */
  gone: string[];
  /** Environments whose instances changed: how many then and now. */
  changed: Array<{ name: string; before: number; after: number }>;
}

/** Pure: what differs between the binding a prompt signed and the targets now; undefined when nothing. */
export function compareBinding(previewed: PreviewBinding, now: TargetPreview): BindingChange | undefined {
  const before = new Map(
    previewed.map((entry) => {
      const [, id = '', count = '0', digest = ''] = ENTRY.exec(entry) ?? [];
      return [id, { count: Number(count), digest }];
    }),
  );
  const change: BindingChange = { added: [], gone: [], changed: [] };
  for (const e of now.environments) {
    const then = before.get(e.id);
    before.delete(e.id);
    if (!then) change.added.push(e.name);
    else if (then.digest !== digestOf(e.instanceIds))
      change.changed.push({ name: e.name, before: then.count, after: e.instanceIds.length });
  }
  change.gone.push(...before.keys());
  return change.added.length || change.gone.length || change.changed.length ? change : undefined;
}
