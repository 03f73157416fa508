#!/bin/sh
# Elastic Beanstalk predeploy hook (Snow White): drain Sidekiq before the platform restarts the
# Procfile processes. Named zz_ so that it runs last among predeploy hooks (they run in lexical
# order, and any that fails aborts the deploy: better before Sidekiq is quiet than after).
# Quiet every Sidekiq (no new jobs), wait until idle for at most SIDEKIQ_DRAIN_LIMIT seconds (default
# 240), then let the deploy go on: this hook always exits 0, so a drain never fails or blocks a
# deploy. Jobs still running at the limit are not lost: the platform's restart TERMs Sidekiq, which
# pushes unfinished jobs back to Redis after its -t.
# A deploy that fails after this hook runs no restart and no postdeploy: the workers would stay quiet.
# So this hook arms a fallback: a detached watcher that runs `sidekiqctl.sh wake` after
# SIDEKIQ_WAKE_AFTER seconds (default 900: past the default 600 s deployment timeout) unless the
# postdeploy hook has cancelled it. Its output goes to $SIDEKIQCTL_STATE_DIR/fallback-wake.log.
# Needs sidekiqctl.sh at .platform/sidekiqctl.sh in the application bundle.
set -eu
setting() { # setting NAME DEFAULT: the environment, else the environment property, else DEFAULT
  eval "v=\${$1:-}"
  if [ -z "$v" ] && [ -x /opt/elasticbeanstalk/bin/get-config ]; then
    v=$(/opt/elasticbeanstalk/bin/get-config environment -k "$1" 2>/dev/null) || v=""
  fi
  case $v in '' | *[!0-9]*) v=$2 ;; esac
}
setting SIDEKIQ_DRAIN_LIMIT 240
limit=$v
setting SIDEKIQ_WAKE_AFTER 900
wake_after=$v
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
# The fallback wake: from the state directory sidekiqctl.sh checked (ours, mode 700), with a copy
# of the script there (the bundle's folder may be gone after a failed deploy). The token file is
# what postdeploy removes to cancel it.
state=${SIDEKIQCTL_STATE_DIR:-/var/lib/sidekiqctl}
case $rc in 3 | 4 | 64) exit 0 ;; esac
[ -d "$state" ] && [ ! -L "$state" ] || exit 0
token="$$-$(date +%s)"
# shellcheck disable=SC2015 # any step failing means: not armed
tmp=$(mktemp "$state/.fallback.XXXXXX") && cp "$ctl" "$tmp" && mv -f "$tmp" "$state/sidekiqctl.sh" &&
  tmp=$(mktemp "$state/.fallback.XXXXXX") && echo "$token" >"$tmp" && mv -f "$tmp" "$state/fallback-wake" || {
  echo "could not arm the fallback wake in $state; if the deploy fails, run sidekiqctl.sh wake"
  exit 0
}
# shellcheck disable=SC2016 # the watcher's own text, its arguments given after it
nohup sh -c '
  sleep "$1"
  [ "$(cat "$2/fallback-wake" 2>/dev/null)" = "$3" ] || exit 0
  rm -f "$2/fallback-wake"
  echo "$(date -u +%FT%TZ) no postdeploy within $1 s (a failed deploy?): waking Sidekiq"
  sh "$2/sidekiqctl.sh" wake --timeout 300
' fallback-wake "$wake_after" "$state" "$token" </dev/null >>"$state/fallback-wake.log" 2>&1 &
echo "fallback wake armed: sidekiqctl.sh wake in ${wake_after}s unless postdeploy runs (log: $state/fallback-wake.log)"
exit 0
