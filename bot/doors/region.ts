import type { AuthorizationDecision } from '../auth/rules';

/**
 * Pure: the refusal for a region the stack does not serve (its SSM documents and the runner's rights
 * are only in `fleetRegions`), or undefined when it is served or no list is configured. Every door
 * with a target asks it — typed, clicked (prompt, summary, App Home, reminder), Cancel, command line —
 * so a button made before the stack changed, or a hand-made request, is refused like a typed command.
 */
export function regionRefusal(
  fleetRegions: readonly string[] | undefined,
  region: string,
): (AuthorizationDecision & { allowed: false }) | undefined {
  if (!fleetRegions || fleetRegions.includes(region)) return undefined;
  return {
    allowed: false,
    reason: 'region_not_served',
    detail: `Snow White is not set up for ${region}: its SSM documents exist in ${fleetRegions.join(', ')}`,
  };
}
