#!/bin/sh
# sidekiqctl.sh — quiet, stop, wake or inspect the Sidekiq processes of this host, safely.
#
# Runs under SSM Run Command on EC2, as a Kubernetes preStop hook and in containers.
# POSIX sh (dash, busybox ash, bash); Linux only (reads /proc). The promise: no job is lost and
# no worker is shut down while it still runs jobs. It never sends KILL.
#
#   sidekiqctl.sh quiet  [--timeout S] [--poll S] [--match ERE] [--heartbeat S]
#   sidekiqctl.sh stop   [--timeout S] [--poll S] [--match ERE] [--heartbeat S] [--service UNIT]
#   sidekiqctl.sh wake   [--force] [--match ERE] [--service UNIT] [--restart-command CMD] [--timeout S]
#   sidekiqctl.sh status [--match ERE]
#
# Processes are found by their title (/proc/PID/cmdline, which Sidekiq rewrites at every heartbeat):
#   sidekiq <version> <tag> [<busy> of <concurrency> busy]            (tag may be empty)
#   sidekiq <version> <tag> [<busy> of <concurrency> busy] stopping   (after TSTP, or TERM)
# Zombies and exiting processes do not count. A process still titled `ruby .../sidekiq ...` has not
# had its first heartbeat yet ("starting"): quiet/stop/wake wait for it to get its title.
#
# quiet  TSTP to each process (USR1 for Sidekiq < 5, whose TSTP would stop the process; USR1 kills
#        Sidekiq 6), then wait until every process is quiet with 0 busy, or --timeout (default 3600).
#        The title is refreshed only per heartbeat, so a title from before the signal can say
#        "0 busy" while a job has just started: only a title saying `stopping` counts. And a heartbeat
#        that ran within a second of the signal may have raced it (a job fetched just before the quiet
#        but not yet counted), so such a title is trusted only after one more heartbeat period
#        (--heartbeat, default 5 s; 10 s for Sidekiq 7+, whose heartbeat is 10 s).
# stop   quiet as above; then `systemctl stop UNIT` when the unit is loaded (a Restart=always unit
#        would otherwise bring Sidekiq straight back), else TERM to each process (and TERM to any
#        process systemctl left running); then wait for every process to exit. If the drain times
#        out, nothing is shut down (exit 2).
# wake   a quiet process cannot be woken, only restarted. Restarts when some process is quiet and
#        idle: `systemctl restart UNIT` if the unit is loaded, else --restart-command CMD (run once
#        with sh -c; it must restart Sidekiq, e.g. `supervisorctl restart sidekiq`). With no process
#        at all: `systemctl start UNIT` or CMD. Awake processes alone: nothing to do. A quiet process
#        still running jobs is not restarted (exit 2) unless --force (Sidekiq then pushes the
#        unfinished jobs back to Redis after its -t). Then waits (--timeout, default 120) until the old
#        quiet processes are gone and a fresh, non-quiet process is seen.
# status prints the state of every process; changes nothing.
#
# --match ERE   only processes whose title (or, while starting, command line) matches (grep -E).
# --service U   the systemd unit (default: `sidekiq`, used only if `systemctl show` says it is loaded;
#               a --service that is not loaded is an error). --service '' disables systemd.
# --poll S      seconds between looks at the titles (default 0.5; decimals allowed).
# --heartbeat S Sidekiq's heartbeat if it was changed from the default (see quiet).
#
# Exit codes: 0 done; 2 --timeout passed with jobs still running, or wake refused (nothing killed);
#             3 no Sidekiq process found and nothing could be done; 1 any other failure; 64 usage.
# Output: progress on stderr (each poll's view when it changes, and every 10 s). The last line on
# stdout is one JSON object:
#   {"action":"quiet","result":"drained","elapsed_seconds":7.9,"processes":[{"pid":4242,
#    "version":"6.4.1","tag":"","busy":0,"concurrency":3,"quiet":true}]}
# result: quiet -> drained | timeout | no_sidekiq;   stop -> stopped | timeout | no_sidekiq
#         wake -> woken | already_awake | refused | no_sidekiq;   status -> status | no_sidekiq
#         any action -> error (exit 1) | usage (exit 64, action "" if it was not understood).
# processes: as last seen (stop: just before shutting down; wake: the fresh processes).
set -eu

PROG=sidekiqctl
GUARD_CS=100 # a heartbeat closer than this to the signal may have raced it (see quiet)
LOG_EVERY_CS=1000
USAGE='usage: sidekiqctl.sh quiet|stop|wake|status [--timeout S] [--poll S] [--match ERE] [--service UNIT] [--restart-command CMD] [--force] [--heartbeat S]'

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# --- time: centiseconds from /proc/uptime (monotonic, no fork) ---------------------------------
nodec() { # strip leading zeros so $(( )) does not read octal
  _n=$1
  while :; do case $_n in 0?*) _n=${_n#0} ;; *) break ;; esac; done
  printf '%s' "$_n"
}
now_cs() {
  read -r _up _rest </proc/uptime
  _i=${_up%.*}
  _f=${_up#*.}
  NOW=$(($(nodec "$_i") * 100 + $(nodec "$_f")))
}
# "12" or "0.5" -> centiseconds in CS; fails on anything else
to_cs() {
  case $1 in '' | *[!0-9.]* | *.*.* | .* | *.) return 1 ;; esac
  _i=${1%%.*}
  _f=
  case $1 in *.*) _f=${1#*.} ;; esac
  _f="${_f}00"
  _f=${_f%"${_f#??}"}
  CS=$(($(nodec "$_i") * 100 + $(nodec "$_f")))
}
fmt_cs() { printf '%d.%d' $(($1 / 100)) $(($1 % 100 / 10)); }

# --- JSON ---------------------------------------------------------------------------------------
json_str() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
PROCS_JSON=""
finish() { # finish RESULT EXIT_CODE
  now_cs
  printf '{"action":"%s","result":"%s","elapsed_seconds":%s,"processes":[%s]}\n' \
    "$(json_str "$ACTION")" "$1" "$(fmt_cs $((NOW - START)))" "$PROCS_JSON"
  exit "$2"
}
usage_error() {
  log "$1"
  printf '%s\n' "$USAGE" >&2
  finish usage 64
}
fail() {
  log "error: $1"
  finish error 1
}

# --- finding processes --------------------------------------------------------------------------
live() { # a process counts only if it exists and is neither a zombie nor dead
  _st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  _st=${_st##*) }
  case ${_st%% *} in Z | X | x | '') return 1 ;; esac
}
matches() { [ -z "$MATCH" ] || printf '%s\n' "$1" | grep -E -q -e "$MATCH"; }
is_starting() { # argv0 is sidekiq, or ruby/bundle running sidekiq (words 1-3)
  set -f
  # shellcheck disable=SC2086 # splitting the command line into words is the point
  set -- $1
  set +f
  [ $# -gt 0 ] || return 1
  [ "${1##*/}" = sidekiq ] && return 0
  case ${1##*/} in ruby* | bundle* | jruby*) ;; *) return 1 ;; esac
  for _w in "${2:-}" "${3:-}" "${4:-}"; do [ "${_w##*/}" = sidekiq ] && return 0; done
  return 1
}
# scan: sets PROCS (lines "pid|version|busy|concurrency|quiet|tag"), NPROCS, STARTING (pids)
scan() {
  PROCS=""
  NPROCS=0
  STARTING=""
  _cands=$(grep -l -s -e sidekiq /proc/[0-9]*/cmdline 2>/dev/null || true)
  for _f in $_cands; do
    _pid=${_f#/proc/}
    _pid=${_pid%/cmdline}
    [ "$_pid" != "$$" ] || continue
    _t=$({ tr -c '\040-\176\200-\377' ' ' <"$_f"; } 2>/dev/null) || continue
    _trail=${_t##*[! ]}
    _t=${_t%"$_trail"}
    [ -n "$_t" ] || continue
    live "$_pid" || continue
    case $_t in
      'sidekiq '[0-9]*' ['*' of '*' busy]' | 'sidekiq '[0-9]*' ['*' of '*' busy] stopping') ;;
      *)
        if is_starting "$_t" && matches "$_t"; then STARTING="$STARTING $_pid"; fi
        continue
        ;;
    esac
    matches "$_t" || continue
    _q=false
    case $_t in *' stopping') _q=true _t=${_t% stopping} ;; esac
    _p=$(printf '%s\n' "$_t" | sed -n 's/^sidekiq \([0-9][^ ]*\) \(.*\)\[\([0-9][0-9]*\) of \([0-9][0-9]*\) busy\]$/\1|\3|\4|\2/p')
    [ -n "$_p" ] || continue
    _ver=${_p%%|*}
    _p=${_p#*|}
    _busy=${_p%%|*}
    _p=${_p#*|}
    _conc=${_p%%|*}
    _tag=${_p#*|}
    _tag=${_tag% } # the space before "[" (an empty tag leaves just that one)
    PROCS="$PROCS$_pid|$_ver|$(nodec "$_busy")|$(nodec "$_conc")|$_q|$_tag
"
    NPROCS=$((NPROCS + 1))
  done
}
procs_json() {
  PROCS_JSON=""
  while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
    [ -n "$_pid" ] || continue
    PROCS_JSON="$PROCS_JSON${PROCS_JSON:+,}{\"pid\":$_pid,\"version\":\"$(json_str "$_ver")\",\"tag\":\"$(json_str "$_tag")\",\"busy\":$_busy,\"concurrency\":$_conc,\"quiet\":$_q}"
  done <<EOF
$PROCS
EOF
}
VIEW_LAST=""
VIEW_AT=-100000
show_view() { # one stderr line per poll when the view changed, or every 10 s
  _v=""
  while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
    [ -n "$_pid" ] || continue
    _s=""
    [ "$_q" = false ] || _s=", quiet"
    _v="$_v${_v:+; }pid $_pid (sidekiq $_ver${_tag:+ $_tag}): $_busy of $_conc busy$_s"
  done <<EOF
$PROCS
EOF
  for _pid in $STARTING; do _v="$_v${_v:+; }pid $_pid: starting"; done
  [ -n "$_v" ] || _v="no sidekiq process"
  now_cs
  if [ "$_v" != "$VIEW_LAST" ] || [ $((NOW - VIEW_AT)) -ge $LOG_EVERY_CS ]; then
    log "[$(fmt_cs $((NOW - START)))s] $_v"
    VIEW_LAST=$_v
    VIEW_AT=$NOW
  fi
}
pid_in() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }
sleep_poll() { # sleep one poll, never past the deadline
  now_cs
  _left=$((DEADLINE - NOW))
  if [ "$_left" -le 0 ]; then return 0; fi
  if [ "$_left" -lt "$POLL_CS" ]; then sleep "$(fmt_cs "$_left")"; else sleep "$POLL"; fi
}

# --- systemd ------------------------------------------------------------------------------------
UNIT=""
find_unit() { # sets UNIT when the unit is loaded; fails if an explicit --service is not
  UNIT=""
  [ -n "$SERVICE" ] || return 0
  _ls=""
  if command -v systemctl >/dev/null 2>&1; then
    _ls=$(systemctl show -p LoadState "$SERVICE" 2>/dev/null || true)
  fi
  case $_ls in
    *LoadState=loaded*) UNIT=$SERVICE ;;
    *) if [ "$SERVICE_GIVEN" = 1 ]; then fail "systemd unit $SERVICE is not loaded (--service)"; fi ;;
  esac
}

# --- drain (quiet, and the first half of stop) --------------------------------------------------
# Returns 0 when every selected process is quiet with 0 busy (as trusted per the header), 2 at the
# deadline, 3 when no process was there at the first look.
drain() {
  FIRST=1
  while :; do
    scan
    now_cs
    if [ "$FIRST" = 1 ] && [ "$NPROCS" -eq 0 ] && [ -z "$STARTING" ]; then return 3; fi
    FIRST=0
    _ok=1
    [ -z "$STARTING" ] || _ok=0
    while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
      [ -n "$_pid" ] || continue
      eval "_sig=\${SIG_$_pid:-}"
      if [ -z "$_sig" ]; then
        _sig=$NOW
        eval "SIG_$_pid=$NOW BORN_$_pid=-1 KEY_$_pid=''"
        if [ "$_q" = false ]; then
          _name=TSTP
          [ "${_ver%%.*}" -ge 5 ] 2>/dev/null || _name=USR1
          log "pid $_pid: sending $_name (sidekiq $_ver)"
          kill -s "$_name" "$_pid" 2>/dev/null || log "pid $_pid: could not signal (gone?)"
        fi
      fi
      # When the title changes, the heartbeat that wrote it ran after the previous look.
      _key="" _seen="" _born=""
      eval "_key=\$KEY_$_pid _seen=\${SEEN_$_pid:--1}"
      if [ "$_key" != "$_busy|$_q" ]; then eval "KEY_$_pid='$_busy|$_q' BORN_$_pid=$_seen"; fi
      eval "SEEN_$_pid=$NOW _born=\$BORN_$_pid"
      if [ "$_q" = true ] && [ "$_busy" -eq 0 ]; then
        _beat=$HEARTBEAT_CS
        if [ -z "$_beat" ]; then
          _beat=500
          [ "${_ver%%.*}" -lt 7 ] 2>/dev/null || _beat=1000
        fi
        if [ "$_born" -ge $((_sig + GUARD_CS)) ] || [ "$NOW" -ge $((_sig + GUARD_CS + _beat + GUARD_CS)) ]; then
          :
        else
          _ok=0
        fi
      else
        _ok=0
      fi
    done <<EOF
$PROCS
EOF
    show_view
    [ "$_ok" = 0 ] || return 0
    now_cs
    [ "$NOW" -lt "$DEADLINE" ] || return 2
    sleep_poll
  done
}

# --- actions ------------------------------------------------------------------------------------
do_quiet() {
  _rc=0
  drain || _rc=$?
  procs_json
  case $_rc in
    0) finish drained 0 ;;
    2)
      log "timeout: jobs still running after ${TIMEOUT}s; nothing was killed"
      finish timeout 2
      ;;
    3)
      log "no sidekiq process found"
      finish no_sidekiq 3
      ;;
  esac
  fail "drain returned $_rc"
}

do_stop() {
  find_unit
  _rc=0
  drain || _rc=$?
  procs_json
  case $_rc in
    0) ;;
    2)
      log "timeout: jobs still running after ${TIMEOUT}s; nothing was stopped or killed"
      finish timeout 2
      ;;
    3)
      log "no sidekiq process found"
      finish no_sidekiq 3
      ;;
    *) fail "drain returned $_rc" ;;
  esac
  _pids=$(printf '%s' "$PROCS" | sed 's/|.*//' | tr '\n' ' ')
  if [ -n "$UNIT" ]; then
    log "systemctl stop $UNIT"
    systemctl stop "$UNIT" || fail "systemctl stop $UNIT failed"
  fi
  for _pid in $_pids; do
    if live "$_pid"; then
      [ -z "$UNIT" ] || log "pid $_pid still runs after systemctl stop $UNIT (not in that unit?)"
      log "pid $_pid: sending TERM"
      kill -s TERM "$_pid" 2>/dev/null || true
    fi
  done
  # Idle processes exit within seconds of TERM; allow at least a minute whatever is left.
  now_cs
  [ "$DEADLINE" -ge $((NOW + 6000)) ] || DEADLINE=$((NOW + 6000))
  while :; do
    _left=""
    for _pid in $_pids; do if live "$_pid"; then _left="$_left $_pid"; fi; done
    [ -n "$_left" ] || break
    now_cs
    [ "$NOW" -lt "$DEADLINE" ] || fail "still running after TERM:$_left (not killed)"
    if [ $((NOW - VIEW_AT)) -ge $LOG_EVERY_CS ]; then
      log "[$(fmt_cs $((NOW - START)))s] waiting for exit:$_left"
      VIEW_AT=$NOW
    fi
    sleep_poll
  done
  log "[$(fmt_cs $((NOW - START)))s] all stopped:$_pids"
  finish stopped 0
}

wait_not_starting() {
  while :; do
    scan
    [ -n "$STARTING" ] || return 0
    show_view
    now_cs
    [ "$NOW" -lt "$DEADLINE" ] || fail "sidekiq still starting at the deadline:$STARTING"
    sleep_poll
  done
}
# Waits until none of OLD_QUIET runs any more and a process not in OLD_ALL is up and not quiet.
wait_fresh() {
  while :; do
    scan
    show_view
    _fresh=0
    _pids=""
    while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
      [ -n "$_pid" ] || continue
      _pids="$_pids $_pid"
      if [ "$_q" = false ] && ! pid_in "$_pid" "$OLD_ALL"; then _fresh=1; fi
    done <<EOF
$PROCS
EOF
    _oldleft=""
    for _pid in $OLD_QUIET; do if live "$_pid"; then _oldleft="$_oldleft $_pid"; fi; done
    if [ "$_fresh" = 1 ] && [ -z "$_oldleft" ] && [ -z "$STARTING" ]; then return 0; fi
    now_cs
    [ "$NOW" -lt "$DEADLINE" ] || fail "no fresh sidekiq process by the deadline (still old:${_oldleft:- none})"
    sleep_poll
  done
}
do_wake() {
  find_unit
  wait_not_starting
  show_view
  OLD_ALL=""
  OLD_QUIET=""
  _busyq=""
  while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
    [ -n "$_pid" ] || continue
    OLD_ALL="$OLD_ALL $_pid"
    if [ "$_q" = true ]; then
      OLD_QUIET="$OLD_QUIET $_pid"
      [ "$_busy" -eq 0 ] || _busyq="$_busyq $_pid"
    fi
  done <<EOF
$PROCS
EOF
  if [ "$NPROCS" -eq 0 ]; then
    if [ -n "$UNIT" ]; then
      log "no sidekiq process: systemctl start $UNIT"
      systemctl start "$UNIT" || fail "systemctl start $UNIT failed"
    elif [ -n "$RESTART_CMD" ]; then
      log "no sidekiq process: running the restart command"
      sh -c "$RESTART_CMD" >&2 || fail "restart command failed"
    else
      procs_json
      log "no sidekiq process found, and no systemd unit or --restart-command to start one"
      finish no_sidekiq 3
    fi
  else
    if [ -z "$OLD_QUIET" ]; then
      procs_json
      log "every process is awake; nothing to do"
      finish already_awake 0
    fi
    if [ -n "$_busyq" ]; then
      if [ "$FORCE" = 1 ]; then
        log "--force: restarting although quiet pid(s)$_busyq still run jobs (Sidekiq pushes them back to Redis)"
      else
        procs_json
        log "refused: quiet pid(s)$_busyq still run jobs; wait for them, or use --force"
        finish refused 2
      fi
    fi
    if [ -n "$UNIT" ]; then
      log "restarting quiet pid(s)$OLD_QUIET: systemctl restart $UNIT"
      systemctl restart "$UNIT" || fail "systemctl restart $UNIT failed"
    elif [ -n "$RESTART_CMD" ]; then
      log "restarting quiet pid(s)$OLD_QUIET: running the restart command"
      sh -c "$RESTART_CMD" >&2 || fail "restart command failed"
    else
      procs_json
      fail "quiet pid(s)$OLD_QUIET need a restart, but there is no systemd unit (--service) or --restart-command"
    fi
  fi
  wait_fresh
  # Report the fresh processes only.
  _keep=""
  while IFS='|' read -r _pid _rest; do
    [ -n "$_pid" ] || continue
    pid_in "$_pid" "$OLD_ALL" || _keep="$_keep$_pid|$_rest
"
  done <<EOF
$PROCS
EOF
  PROCS=$_keep
  procs_json
  finish woken 0
}

do_status() {
  scan
  show_view
  procs_json
  if [ "$NPROCS" -eq 0 ]; then finish no_sidekiq 3; fi
  finish status 0
}

# --- arguments ----------------------------------------------------------------------------------
now_cs
START=$NOW
ACTION=""
case ${1:-} in
  quiet | stop | wake | status) ACTION=$1 ;;
  -h | --help)
    printf '%s\n' "$USAGE"
    exit 0
    ;;
  '') usage_error "missing action" ;;
  *) usage_error "unknown action: $1" ;;
esac
shift
TIMEOUT=""
POLL=0.5
MATCH=""
SERVICE=sidekiq
SERVICE_GIVEN=0
RESTART_CMD=""
FORCE=0
HEARTBEAT=""
allowed() { # allowed FLAG ACTIONS...
  _flag=$1
  shift
  for _a in "$@"; do [ "$_a" != "$ACTION" ] || return 0; done
  usage_error "$_flag is not an option of $ACTION"
}
need_value() { [ "$1" -ge 2 ] || usage_error "$2 needs a value"; }
while [ $# -gt 0 ]; do
  case $1 in
    --timeout)
      allowed "$1" quiet stop wake
      need_value $# "$1"
      TIMEOUT=$2
      shift
      ;;
    --poll)
      allowed "$1" quiet stop wake
      need_value $# "$1"
      POLL=$2
      shift
      ;;
    --heartbeat)
      allowed "$1" quiet stop
      need_value $# "$1"
      HEARTBEAT=$2
      shift
      ;;
    --match)
      need_value $# "$1"
      MATCH=$2
      shift
      ;;
    --service)
      allowed "$1" stop wake
      need_value $# "$1"
      SERVICE=$2
      SERVICE_GIVEN=1
      shift
      ;;
    --restart-command)
      allowed "$1" wake
      need_value $# "$1"
      RESTART_CMD=$2
      shift
      ;;
    --force)
      allowed "$1" wake
      FORCE=1
      ;;
    *) usage_error "unknown argument: $1" ;;
  esac
  shift
done
if [ -z "$TIMEOUT" ]; then
  TIMEOUT=3600
  [ "$ACTION" != wake ] || TIMEOUT=120
fi
to_cs "$TIMEOUT" || usage_error "--timeout needs seconds, got: $TIMEOUT"
TIMEOUT_CS=$CS
if ! to_cs "$POLL" || [ "$CS" -eq 0 ]; then usage_error "--poll needs seconds > 0, got: $POLL"; fi
POLL_CS=$CS
HEARTBEAT_CS=""
if [ -n "$HEARTBEAT" ]; then
  if ! to_cs "$HEARTBEAT" || [ "$CS" -eq 0 ]; then usage_error "--heartbeat needs seconds > 0, got: $HEARTBEAT"; fi
  HEARTBEAT_CS=$CS
fi
if [ -n "$MATCH" ]; then
  # grep exits 2 on a bad expression, 1 on no match
  _rc=0
  printf '\n' | grep -E -q -e "$MATCH" 2>/dev/null || _rc=$?
  [ "$_rc" -ne 2 ] || usage_error "--match is not a valid extended regular expression: $MATCH"
fi
[ -r /proc/uptime ] || fail "/proc is not mounted: this script needs Linux /proc"
DEADLINE=$((START + TIMEOUT_CS))

case $ACTION in
  quiet) do_quiet ;;
  stop) do_stop ;;
  wake) do_wake ;;
  status) do_status ;;
esac
