#!/bin/sh
# Elastic Beanstalk postdeploy hook (Snow White): the deploy went through, so cancel the predeploy
# hook's fallback wake; then restart any Sidekiq the deploy left quiet (wake leaves awake ones
# alone). Returns once the restart is issued: the wait for the fresh workers (a Rails boot) goes on
# in the background, logged to $SIDEKIQCTL_STATE_DIR/postdeploy-wake.log. Always exits 0.
# Installed twice, as .platform/hooks/postdeploy/ and .platform/confighooks/postdeploy/ (code and
# configuration deploys): sidekiqctl.sh is two folders up from either.
set -eu
ctl="$(dirname "$0")/../../sidekiqctl.sh"
state=${SIDEKIQCTL_STATE_DIR:-/var/lib/sidekiqctl}
rm -f "$state/fallback-wake"
log="$state/postdeploy-wake.log"
[ -d "$state" ] && [ ! -L "$state" ] || log=/dev/null
: >"$log" || log=/dev/null
nohup sh "$ctl" wake --timeout 300 </dev/null >"$log" 2>&1 &
bg=$!
# until wake has issued its restarts, or has ended (nothing to restart, or a failure)
while kill -0 "$bg" 2>/dev/null && ! grep -q 'restart issued' "$log" 2>/dev/null; do sleep 0.2; done
if kill -0 "$bg" 2>/dev/null; then
  echo "sidekiq restart issued; the fresh workers are confirmed in the background (log: $log)"
else
  rc=0
  wait "$bg" || rc=$?
  cat "$log"
  [ "$rc" = 0 ] || echo "sidekiqctl.sh wake exited $rc (see above)"
fi
exit 0
