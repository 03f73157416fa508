import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import type { LaunchSettings } from '../../runner/launch';
import type { Logger } from '../../runner/log';
import type { Ledger } from '../../runner/ledger/store';
import type { Locks } from '../../runner/ledger/locks';
import type { Authorizer } from '../auth/authorizer';
import type { IamDirectory } from '../auth/iam-directory';
import type { ReminderPolicy } from '../memory/reminders';
import type { ButtonValue } from '../slack/buttons';
import type { SlackOut } from '../slack/out';
import type { RunMemo } from './run-memo';

/** What the slow part (after the acknowledgement) needs; built once per container by bot/lambda.ts. */
export interface WorkDeps {
  authorize: Authorizer;
  /** Elastic Beanstalk client for a region (the command names the region). */
  elasticBeanstalk: (region: string) => ElasticBeanstalkClient;
  ecs: ECSClient;
  launch: LaunchSettings;
  notifyChannel: string;
  slack: SlackOut;
  memo: RunMemo;
  /** The prompt buttons' signed value (issue time inside, so a click can expire). */
  sealButton: (value: ButtonValue) => string;
  logger: Logger;
  /** Slack user → IAM users (history asks only that the asker is a known user). */
  directory: IamDirectory;
  /** Fleet memory; absent when LEDGER_TABLE_NAME is unset (then nothing is recorded or shown). */
  ledger?: Ledger;
  /** One state-changing run per environment (ledger table); absent with the ledger. */
  locks?: Locks;
  reminders: ReminderPolicy;
  /** Regions the stack serves (FLEET_REGIONS); unset: every region. */
  fleetRegions?: readonly string[];
  /** Wall-clock milliseconds (ledger times). */
  nowMs: () => number;
}
