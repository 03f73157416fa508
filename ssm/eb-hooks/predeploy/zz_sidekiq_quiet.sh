#!/bin/sh
# Elastic Beanstalk predeploy hook (Snow White): drain Sidekiq before the platform restarts the
# Procfile processes. Quiet every Sidekiq (no new jobs), wait until idle for at most
# SIDEKIQ_DRAIN_LIMIT seconds (default 240), then let the deploy go on: this hook always exits 0,
# so a drain never fails or blocks a deploy. Jobs still running at the limit are not lost: the
# platform's restart TERMs Sidekiq, which pushes unfinished jobs back to Redis after its -t.
# Keep SIDEKIQ_DRAIN_LIMIT + Sidekiq's -t (25 s) under the environment's command timeout (600 s).
# Needs sidekiqctl.sh at .platform/sidekiqctl.sh in the application bundle.
set -eu
limit=${SIDEKIQ_DRAIN_LIMIT:-}
if [ -z "$limit" ] && [ -x /opt/elasticbeanstalk/bin/get-config ]; then
  limit=$(/opt/elasticbeanstalk/bin/get-config environment -k SIDEKIQ_DRAIN_LIMIT 2>/dev/null) || limit=""
fi
case $limit in '' | *[!0-9]*) limit=240 ;; esac
# Installed twice, as .platform/hooks/predeploy/ and .platform/confighooks/predeploy/ (code and
# configuration deploys): sidekiqctl.sh is two folders up from either.
ctl="$(dirname "$0")/../../sidekiqctl.sh"
rc=0
sh "$ctl" quiet --timeout "$limit" || rc=$?
case $rc in
  0) echo "sidekiq drained before the deploy" ;;
  3) echo "no sidekiq process to drain" ;;
  2) echo "sidekiq still busy after ${limit}s: the deploy goes on; the restart's TERM pushes unfinished jobs back to Redis" ;;
  *) echo "sidekiqctl.sh quiet exited $rc (see above); the deploy goes on" ;;
esac
exit 0
