import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import { DescribeRuleCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ListUsersCommand, type IAMClient } from '@aws-sdk/client-iam';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DescribeDocumentCommand,
  DescribeInstanceInformationCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { WebClient } from '@slack/web-api';
import pLimit from 'p-limit';
import * as z from 'zod';
import { ACTIONS } from '../../ssm/actions';
import { previewTargets } from '../aws/environments';
import { slackUserIdTagOf } from '../aws/slack-user-tag';
import { slackErrorCode } from '../slack/errors';
import { STACK_OUTPUTS } from '../stack-outputs';
import { cliErrorOf } from './aws-errors';

// `snowwhite doctor`: a deployed stack checked the way a run would fail, one line per check, each
// with what to do. Read-only: it calls only Describe/Get/List APIs and Slack's auth.test.

export interface DoctorClients {
  cloudFormation: CloudFormationClient;
  secretsManager: SecretsManagerClient;
  iam: IAMClient;
  /** SSM in a region (the documents are looked for in every fleet region). */
  ssm: (region: string) => SSMClient;
  /** Elastic Beanstalk in the fleet's region (for --application). */
  elasticBeanstalk: ElasticBeanstalkClient;
  /** EventBridge in the stack's region (the reminder rule). */
  eventBridge: EventBridgeClient;
  /** A Slack Web API client for the bot token found in the secret (for auth.test). */
  slack: (token: string) => WebClient;
}

export interface DoctorOptions {
  stack: string;
  stackRegion: string;
  /** With `region`: every instance of this application's environments must be online in SSM. */
  application?: string;
  region?: string;
  /** A Slack member id that exactly one IAM user must carry. */
  member?: string;
}

export interface Check {
  name: string;
  ok: boolean;
  /** What was found; when not ok, what is wrong and what to do. */
  detail: string;
}

const MAX_LISTED = 10;
const listed = (xs: readonly string[]) =>
  `${xs.slice(0, MAX_LISTED).join(', ')}${xs.length > MAX_LISTED ? ` and ${xs.length - MAX_LISTED} more` : ''}`;

/** The outputs this version of the command line reads; an older stack lacks some. */
const NEEDED_OUTPUTS = Object.values(STACK_OUTPUTS);

const manifestScopesSchema = z.object({
  oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()) }) }),
});
const secretSchema = z.object({ signingSecret: z.string(), botToken: z.string() }).loose();

/**
 * Runs every check it can; a check whose prerequisite failed (no stack, no secret) is reported as
 * not run rather than left out, so the list always says what was and was not verified.
 */
export async function runDoctor(clients: DoctorClients, options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const check = async (name: string, run: () => Promise<Omit<Check, 'name'>>) => {
    try {
      checks.push({ name, ...(await run()) });
    } catch (err) {
      const e = cliErrorOf(err, { stack: options.stack, stackRegion: options.stackRegion });
      checks.push({ name, ok: false, detail: e.message });
    }
  };

  // 1. The stack and its outputs.
  let outputs: Record<string, string> | undefined;
  await check('stack', async () => {
    const out = await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: options.stack }));
    const stack = out.Stacks?.[0];
    if (!stack) return { ok: false, detail: `no stack ${options.stack} in ${options.stackRegion}` };
    outputs = Object.fromEntries(
      (stack.Outputs ?? []).flatMap((o) =>
        o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
    const missing = NEEDED_OUTPUTS.filter((k) => outputs![k] === undefined);
    if (missing.length)
      return {
        ok: false,
        detail: `${options.stack} (${stack.StackStatus}) lacks the outputs ${listed(missing)}: deploy this version of Snow White (npx cdk deploy)`,
      };
    if (!/_COMPLETE$/.test(stack.StackStatus ?? '') || /ROLLBACK|DELETE/.test(stack.StackStatus ?? ''))
      return { ok: false, detail: `${options.stack} is ${stack.StackStatus}: fix the deployment first` };
    return {
      ok: true,
      detail: `${options.stack} in ${options.stackRegion} (${stack.StackStatus}), ${Object.keys(outputs).length} outputs; operators need execute-api:Invoke on ${outputs[STACK_OUTPUTS.cliInvokeResource]}`,
    };
  });
  const output = (key: keyof typeof STACK_OUTPUTS) => outputs?.[STACK_OUTPUTS[key]];
  const notRun = (name: string, why: string) =>
    checks.push({ name, ok: false, detail: `not checked: ${why}` });

  // 2. The documents, present in every fleet region and the same as the stack region's.
  const documentNames = ACTIONS.map((a) =>
    output(`ssmDocument${a[0]!.toUpperCase()}${a.slice(1)}` as keyof typeof STACK_OUTPUTS),
  );
  const fleetRegions = (output('fleetRegions') ?? options.stackRegion).split(',').filter(Boolean);
  if (documentNames.some((d) => d === undefined)) notRun('documents', 'the stack has no document outputs');
  else
    await check('documents', async () => {
      const hashes = async (region: string) =>
        Object.fromEntries(
          await Promise.all(
            documentNames.map(async (name) => {
              try {
                const d = await clients.ssm(region).send(new DescribeDocumentCommand({ Name: name! }));
                return [name!, d.Document?.Hash ?? ''] as const;
              } catch (err) {
                if ((err as Error).name === 'InvalidDocument') return [name!, undefined] as const;
                throw err;
              }
            }),
          ),
        ) as Record<string, string | undefined>;
      const reference = await hashes(options.stackRegion);
      const problems: string[] = [];
      for (const region of fleetRegions) {
        const found = region === options.stackRegion ? reference : await hashes(region);
        const missing = documentNames.filter((n) => found[n!] === undefined);
        const stale = documentNames.filter(
          (n) => found[n!] !== undefined && reference[n!] !== undefined && found[n!] !== reference[n!],
        );
        if (missing.length) problems.push(`${listed(missing as string[])} missing in ${region}`);
        if (stale.length)
          problems.push(`${listed(stale as string[])} in ${region} differ from ${options.stackRegion}'s`);
      }
      return problems.length
        ? {
            ok: false,
            detail: `${problems.join('; ')}: deploy SnowWhiteDocuments with the same prefix in each fleet region (README: Fleets in other regions)`,
          }
        : {
            ok: true,
            detail: `${documentNames.length} documents in ${fleetRegions.join(', ')}, all the same version`,
          };
    });

  // 3. Every instance of the application's environments registered and online in SSM.
  if (options.application && options.region)
    await check(`instances of ${options.application}`, async () => {
      const preview = await previewTargets(clients.elasticBeanstalk, {
        application: options.application!,
        envPattern: '',
      });
      const ids = preview.environments.flatMap((e) => e.instanceIds);
      if (ids.length === 0)
        return {
          ok: false,
          detail: `no running environment of ${options.application} in ${options.region} (other names: ${listed(preview.others) || 'none'})`,
        };
      const online = new Set<string>();
      const ssm = clients.ssm(options.region!);
      for (let i = 0; i < ids.length; i += 50) {
        let token: string | undefined;
        do {
          const page = await ssm.send(
            new DescribeInstanceInformationCommand({
              Filters: [{ Key: 'InstanceIds', Values: ids.slice(i, i + 50) }],
              ...(token ? { NextToken: token } : {}),
            }),
          );
          for (const info of page.InstanceInformationList ?? [])
            if (info.InstanceId && info.PingStatus === 'Online') online.add(info.InstanceId);
          token = page.NextToken;
        } while (token);
      }
      const offline = ids.filter((id) => !online.has(id)).sort();
      return offline.length
        ? {
            ok: false,
            detail: `${offline.length} of ${ids.length} instances not online in SSM (${listed(offline)}): give their instance profile AmazonSSMManagedInstanceCore and let them reach SSM (README step 6)`,
          }
        : {
            ok: true,
            detail: `${ids.length} instances in ${preview.environments.length} environments, all online in SSM`,
          };
    });

  // 4. The Slack secret set, and 5. the token's scopes against the manifest's.
  let token: string | undefined;
  const secretArn = output('slackSecretArn');
  if (!secretArn) notRun('Slack secret', 'the stack has no SlackSecretArn output');
  else
    await check('Slack secret', async () => {
      const value = await clients.secretsManager.send(new GetSecretValueCommand({ SecretId: secretArn }));
      let raw: unknown;
      try {
        raw = JSON.parse(value.SecretString ?? '');
      } catch {
        raw = undefined;
      }
      const parsed = secretSchema.safeParse(raw);
      // Never the values: only whether they look set.
      if (!parsed.success || !/^xoxb-/.test(parsed.data.botToken) || parsed.data.signingSecret.length < 16)
        return {
          ok: false,
          detail:
            'the secret still holds the placeholder (or is not {"signingSecret": …, "botToken": "xoxb-…"}): put the Slack app\'s values in it (README, deploy step 3)',
        };
      token = parsed.data.botToken;
      return { ok: true, detail: 'set (a signing secret and a bot token)' };
    });
  const manifest = output('slackManifest');
  if (!token) notRun('bot token', 'no bot token in the secret');
  else
    await check('bot token', async () => {
      const wanted = manifest ? manifestScopesSchema.safeParse(JSON.parse(manifest)) : undefined;
      const auth = await authTest(clients.slack(token!));
      if (!auth.ok)
        return {
          ok: false,
          detail: `Slack refused the token (${auth.error ?? 'no reason'}): copy the Bot User OAuth Token again after installing the app (README, deploy step 2)`,
        };
      const missing = (wanted?.success ? wanted.data.oauth_config.scopes.bot : []).filter(
        (s) => !auth.scopes.includes(s),
      );
      return missing.length
        ? {
            ok: false,
            detail: `the token lacks the scopes ${listed(missing)}: add them under OAuth & Permissions (or create the app from \`snowwhite manifest\`), reinstall the app, and put the new token in the secret`,
          }
        : { ok: true, detail: `valid for workspace ${auth.team ?? '?'}, scopes ${auth.scopes.join(', ')}` };
    });

  // 6. The reminder rule enabled.
  const rule = output('reminderRuleName');
  if (!rule) notRun('reminder rule', 'the stack has no ReminderRuleName output');
  else
    await check('reminder rule', async () => {
      const state = await ruleState(clients.eventBridge, rule);
      return state === 'ENABLED'
        ? { ok: true, detail: `${rule} enabled` }
        : {
            ok: false,
            detail: `${rule} is ${state ?? 'missing'}: no reminders are sent for fleets left quiet; enable it (aws events enable-rule --name ${rule})`,
          };
    });

  // 7. Exactly one IAM user carries the member's Slack id.
  if (options.member)
    await check(`Slack member ${options.member}`, async () => {
      const users: string[] = [];
      let marker: string | undefined;
      do {
        const page = await clients.iam.send(
          new ListUsersCommand({ MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }),
        );
        users.push(...(page.Users ?? []).flatMap((u) => (u.UserName ? [u.UserName] : [])));
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
      const limit = pLimit(5);
      const tagged = (
        await Promise.all(
          users.map((u) =>
            limit(async () => ((await slackUserIdTagOf(clients.iam, u)) === options.member ? u : undefined)),
          ),
        )
      ).filter((u): u is string => u !== undefined);
      if (tagged.length === 1) return { ok: true, detail: `IAM user ${tagged[0]} (tag slack_userid)` };
      return {
        ok: false,
        detail:
          tagged.length === 0
            ? `no IAM user carries slack_userid=${options.member}: aws iam tag-user --user-name NAME --tags Key=slack_userid,Value=${options.member} (README, deploy step 4)`
            : `${tagged.length} IAM users carry slack_userid=${options.member} (${listed(tagged)}): the bot refuses them all; keep the tag on one`,
      };
    });

  return checks;
}

/**
 * Slack's auth.test: whether the token works, and the scopes Slack lists for it (the X-OAuth-Scopes
 * header, which the client returns as response_metadata.scopes). A refusal is an answer, not an error.
 */
async function authTest(
  slack: WebClient,
): Promise<{ ok: boolean; error?: string; team?: string; scopes: string[] }> {
  try {
    const answer = await slack.auth.test();
    return {
      ok: true,
      ...(answer.team ? { team: answer.team } : {}),
      scopes: answer.response_metadata?.scopes ?? [],
    };
  } catch (err) {
    const error = slackErrorCode(err);
    if (error !== undefined) return { ok: false, error, scopes: [] };
    // No answer from Slack (network, 5xx after the client's retries): nothing is known of the token.
    throw new Error(
      `Slack's auth.test did not answer (${String((err as Error).message).slice(0, 120)}): the token was not checked; try again`,
      { cause: err },
    );
  }
}

/** The rule's State; undefined when there is no such rule. */
async function ruleState(eventBridge: EventBridgeClient, name: string): Promise<string | undefined> {
  try {
    return (await eventBridge.send(new DescribeRuleCommand({ Name: name }))).State;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/** Pure: one line per check, ✔ or ✘. */
export const checkLine = (c: Check): string => `${c.ok ? '✔' : '✘'} ${c.name}: ${c.detail}`;
