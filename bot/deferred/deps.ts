import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '../../runner/drain/clock';
import type { SendClaims } from '../../runner/ledger/sends';
import type { Action } from '../../ssm/actions';
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
  /** SSM in a fleet's region (reachability, look-ups, status invocations). */
  ssm: (region: string) => SSMClient;
  /** SSM for SendCommand only (never retried after a failure that may have created the command). */
  ssmSendCommand: (region: string) => SSMClient;
  /** Each action's SSM document. */
  documents: Record<Action, string>;
  /** Who sends a run's commands: one attempt per run id (runner/ledger/sends.ts). */
  sendClaims: SendClaims;
  /** `status` answered by the bot itself, up to this many instances, within this long. */
  status: { maxInstances: number; answerWithinMs: number };
  /** Sleeps and the time of status polling (tests may pass a virtual one). */
  clock: Clock;
}
