import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ACTIONS, type Action } from '../../ssm/actions';
import { sidekiqctlDocument } from '../../ssm/documents';
import { REPO_ROOT } from '../repo';
import { validationError } from '../validation-error';

/** The script every SSM document embeds, read at synth time. */
export const SIDEKIQCTL_SCRIPT = path.join(REPO_ROOT, 'ssm', 'sidekiqctl.sh');

/** The default of `documentNamePrefix`. */
export const DEFAULT_NAME_PREFIX = 'SnowWhite';

const SUFFIX: Record<Action, string> = { quiet: 'Quiet', stop: 'Stop', wake: 'Wake', status: 'Status' };

/** Valid both in SSM document names and in ECS task definition families. */
const NAME_PREFIX_PATTERN = /^[A-Za-z0-9_-]{3,100}$/;

/** One SSM Command document per action, each embedding `ssm/sidekiqctl.sh` (read at synth time). */
export interface SnowWhiteDocumentsProps {
  /** @default 'SnowWhite' */
  readonly documentNamePrefix?: string;
  /**
   * The script's text.
   * @default the contents of ssm/sidekiqctl.sh
   */
  readonly scriptText?: string;
}

/**
 * The four SSM Command documents. `SnowWhite` creates them in its own region; deploy this
 * construct alone (same prefix) in every other region listed in `fleetRegions`.
 */
export class SnowWhiteDocuments extends Construct {
  /** The checked name prefix (documents, and the runner's task definition family). */
  readonly prefix: string;
  /** Document name by action. */
  readonly names: Readonly<Record<Action, string>>;
  readonly documents: Readonly<Record<Action, ssm.CfnDocument>>;

  constructor(scope: Construct, id: string, props: SnowWhiteDocumentsProps = {}) {
    super(scope, id);
    const prefix = checkNamePrefix(this, props.documentNamePrefix ?? DEFAULT_NAME_PREFIX);
    this.prefix = prefix;
    const scriptText = props.scriptText ?? readScript(this);
    const names = {} as Record<Action, string>;
    const documents = {} as Record<Action, ssm.CfnDocument>;
    for (const action of ACTIONS) {
      names[action] = `${prefix}-${SUFFIX[action]}`;
      documents[action] = new ssm.CfnDocument(this, SUFFIX[action], {
        name: names[action],
        documentType: 'Command',
        // EC2 instances only (Elastic Beanstalk's); not on-premises or other managed nodes.
        targetType: '/AWS::EC2::Instance',
        documentFormat: 'JSON',
        content: sidekiqctlDocument(action, scriptText),
        // A named document cannot be replaced in place: a new script version becomes a new
        // document version (set as the default) instead.
        updateMethod: 'NewVersion',
        tags: [{ key: 'snowwhite:action', value: action }],
      });
    }
    this.names = names;
    this.documents = documents;
  }
}

function checkNamePrefix(scope: Construct, prefix: string): string {
  if (!NAME_PREFIX_PATTERN.test(prefix) || /^(aws|amazon|amzn)/i.test(prefix))
    throw validationError(
      scope,
      'InvalidDocumentNamePrefix',
      `documentNamePrefix "${prefix}" must be 3-100 of A-Z a-z 0-9 _ - and not start with aws, amazon or amzn`,
    );
  return prefix;
}

function readScript(scope: Construct): string {
  if (!fs.existsSync(SIDEKIQCTL_SCRIPT))
    throw validationError(
      scope,
      'MissingSidekiqctlScript',
      `${SIDEKIQCTL_SCRIPT} is missing: the SSM documents embed it`,
    );
  return fs.readFileSync(SIDEKIQCTL_SCRIPT, 'utf8');
}
