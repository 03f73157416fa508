#!/bin/sh
# Elastic Beanstalk postdeploy hook (Snow White): a Sidekiq the deploy did not restart would stay
# quiet for good; restart any quiet one (wake leaves awake processes alone). Always exits 0.
# Installed twice, as .platform/hooks/postdeploy/ and .platform/confighooks/postdeploy/ (code and
# configuration deploys): sidekiqctl.sh is two folders up from either.
set -eu
ctl="$(dirname "$0")/../../sidekiqctl.sh"
rc=0
sh "$ctl" wake --timeout 120 || rc=$?
[ "$rc" = 0 ] || echo "sidekiqctl.sh wake exited $rc (see above)"
exit 0
