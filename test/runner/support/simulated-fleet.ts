import type { InstanceOutcome } from '../../../runner/drain/outcome';

/**
 * Outcomes of `count` instances spread over `environments` environments, as a big fleet's quiet
 * comes back: mostly drained (two quiet processes each), and 1 in 25 with a problem (each kind in turn), with
 * a reason quoting hostile instance output.
 */
export function simulatedFleet(count: number, environments: number): InstanceOutcome[] {
  const problems: InstanceOutcome['kind'][] = [
    'failed',
    'unreachable',
    'busy_at_deadline',
    'no_sidekiq',
    'timed_out',
  ];
  return Array.from({ length: count }, (_, i): InstanceOutcome => {
    const environment = `workers-${String(Math.floor((i * environments) / count)).padStart(2, '0')}`;
    const instanceId = `i-${(0x0a000000 + i).toString(16).padStart(17, '0')}`;
    const kind = i % 25 === 7 ? problems[Math.floor(i / 25) % problems.length]! : 'drained';
    if (kind === 'drained')
      return {
        instanceId,
        environment,
        kind,
        reason: 'drained',
        processes: 2,
        busyJobs: 0,
        elapsedSeconds: 12 + (i % 40),
        sidekiq: [
          { pid: 1000 + i, busy: 0, concurrency: 5, quiet: true },
          { pid: 2000 + i, busy: 0, concurrency: 5, quiet: true },
        ],
      };
    return {
      instanceId,
      environment,
      kind,
      reason:
        kind === 'failed'
          ? 'exit code 1: sidekiqctl: <!channel> & <https://evil.example|unexpected> title'
          : kind === 'unreachable'
            ? 'SSM could not deliver the command (agent offline?)'
            : kind === 'busy_at_deadline'
              ? '3 jobs still running at the drain timeout (nothing was killed)'
              : kind === 'no_sidekiq'
                ? 'no Sidekiq process found'
                : 'SSM stopped the script at the execution timeout (the drain was not finished)',
    };
  });
}
