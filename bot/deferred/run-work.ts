import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import type { Authorizer } from '../auth/authorizer';
import type { Work } from './handoff';
import type { LaunchSettings } from '../../runner/launch';
import { describeError, type Logger } from '../../runner/log';
import type { RunMemo } from './run-memo';
import type { SlackOut } from '../slack/out';
import { runButtonWork } from './on-button';
import { runCommandWork } from './on-command';

/** What the slow part (after the acknowledgement) needs; built once per container by lambda.ts. */
export interface WorkDeps {
  authorize: Authorizer;
  /** Elastic Beanstalk client for a region (the command names the region). */
  elasticBeanstalk: (region: string) => ElasticBeanstalkClient;
  ecs: ECSClient;
  launch: LaunchSettings;
  notifyChannel: string;
  slack: SlackOut;
  memo: RunMemo;
  logger: Logger;
}

/** Runs one piece of handed-off work. Never throws: failures are told to the person and logged. */
export async function runWork(deps: WorkDeps, work: Work): Promise<void> {
  try {
    if (work.kind === 'command') await runCommandWork(deps, work);
    else await runButtonWork(deps, work);
  } catch (err) {
    deps.logger.error('work_failed', { kind: work.kind, error: describeError(err) });
    try {
      await deps.slack.tell(work, {
        text: ':x: Something went wrong; nothing more was done. The logs have the details.',
      });
    } catch (tellErr) {
      deps.logger.error('tell_failed', { error: describeError(tellErr) });
    }
  }
}
