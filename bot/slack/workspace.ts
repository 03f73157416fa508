/**
 * The one Slack installation served. A valid signature only says Slack sent a request to this app's
 * URL; with an org-wide install or Slack Connect, user ids from other workspaces would arrive too,
 * and IAM users are tagged with ids of one workspace.
 */
export interface Installation {
  /** The workspace (T…) the app is installed in. */
  teamId?: string;
  /** The app (A…) whose requests these are. */
  appId?: string;
}

interface Origin {
  team?: string;
  userTeam?: string;
  appId?: string;
  enterpriseInstall: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : undefined);

/** The origin fields of a slash command, an interaction payload or an Events API body; undefined: a check Slack makes itself (ssl_check, url_verification). */
function originOf(body: string, contentType: string | undefined): Origin | undefined {
  let fields: Obj;
  if (contentType === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(body);
      fields = isObj(parsed) ? parsed : {};
    } catch {
      fields = {};
    }
    if (fields.type === 'url_verification') return undefined;
  } else {
    const form = new URLSearchParams(body);
    if (form.get('ssl_check') === '1') return undefined;
    const payload = form.get('payload');
    if (payload !== null) {
      try {
        const parsed: unknown = JSON.parse(payload);
        fields = isObj(parsed) ? parsed : {};
      } catch {
        fields = {};
      }
    } else fields = Object.fromEntries(form.entries());
  }
  const team = isObj(fields.team) ? str(fields.team.id) : str(fields.team_id);
  const user = isObj(fields.user) ? fields.user : {};
  return {
    ...(team ? { team } : {}),
    ...(str(user.team_id) ? { userTeam: str(user.team_id) } : {}),
    ...(str(fields.api_app_id) ? { appId: str(fields.api_app_id) } : {}),
    enterpriseInstall: fields.is_enterprise_install === true || fields.is_enterprise_install === 'true',
  };
}

/** Why a request is not from this installation, or undefined when it is (or nothing is configured). */
export function foreignOrigin(
  body: string,
  contentType: string | undefined,
  installation: Installation,
): string | undefined {
  if (!installation.teamId && !installation.appId) return undefined;
  const origin = originOf(body, contentType);
  if (!origin) return undefined;
  if (installation.appId && origin.appId !== installation.appId)
    return `app ${origin.appId ?? '(none)'} is not ${installation.appId}`;
  if (installation.teamId) {
    if (origin.enterpriseInstall) return 'an org-wide (enterprise) installation';
    if (origin.team !== installation.teamId)
      return `workspace ${origin.team ?? '(none)'} is not ${installation.teamId}`;
    if (origin.userTeam !== undefined && origin.userTeam !== installation.teamId)
      return `the user belongs to workspace ${origin.userTeam}, not ${installation.teamId}`;
  }
  return undefined;
}
