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
# quiet  TSTP to each process (USR1 only when the version's major is a plain number below 5: Sidekiq 4's
#        TSTP would stop the process, but USR1 kills Sidekiq 6 and 7, so any other version gets TSTP),
#        then wait until every process is quiet with 0 busy, or --timeout (default 3600).
#        The title is refreshed only per heartbeat, so a title from before the signal can say
#        "0 busy" while a job has just started: only a title saying `stopping` counts. And a heartbeat
#        that ran within a second of the signal may have raced it (a job fetched just before the quiet
#        but not yet counted), so such a title is trusted only after one more heartbeat period
#        (--heartbeat, default 5 s; 10 s for Sidekiq 7+, whose heartbeat is 10 s).
# stop   quiet as above; then `systemctl stop UNIT` when the unit is loaded (a Restart=always unit
#        would otherwise bring Sidekiq straight back), else TERM to each process (and TERM to any
#        process systemctl left running); then wait for every process to exit. If the drain times
#        out, nothing is shut down (exit 2).
#        systemctl stop shuts down every process of the unit, so first the unit's Sidekiq processes
#        are found (any title, whatever --match says, starting ones too): its main pid
#        (`systemctl show -p MainPID UNIT`) and every process whose /proc/PID/cgroup has a path
#        component UNIT.service (or UNIT), which is where systemd puts a unit's processes.
#        - none of the drained processes is in the unit: the unit is not touched; TERM to each.
#        - the unit also runs a process that is not drained (awake, busy, starting, or not selected
#          by --match): refused, exit 2, result "refused", nothing stopped. Not a per-pid TERM of
#          the drained ones instead: when a unit's main process exits, systemd stops the rest of the
#          unit, which would shut down the busy ones all the same.
#        - otherwise: systemctl stop UNIT.
#        For the same reason, a process to TERM (no unit used, or outside UNIT) that is the main pid
#        of the systemd service its cgroup belongs to is TERMed only if that service runs no process
#        that is not drained; else refused as above.
# wake   a quiet process cannot be woken, only restarted. Restarts when some process is quiet and
#        idle: `systemctl restart UNIT` if the unit is loaded, else --restart-command CMD (run once
#        with sh -c; it must restart Sidekiq, e.g. `supervisorctl restart sidekiq`). With no process
#        at all: `systemctl start UNIT` or CMD. Awake processes alone: nothing to do. A quiet process
#        still running jobs is not restarted (exit 2) unless --force (Sidekiq then pushes the
#        unfinished jobs back to Redis after its -t). Then waits until the old quiet processes are
#        gone and a fresh, non-quiet process is seen.
#        Before `systemctl restart UNIT` the unit's processes are found as for stop: if it runs any
#        process other than the quiet ones being restarted (an awake one, say), refused (exit 2),
#        nothing restarted; if it runs none of them, CMD is used if given, else exit 1.
#        --timeout (default 120) bounds the whole wake: the restart (systemctl or CMD) runs in the
#        background and, if it has not returned by then, is left running (not killed; its output is
#        kept in a temporary file named on stderr) and wake fails with exit 1.
# status prints the state of every process; changes nothing.
#
# --match ERE   only processes whose title (or, while starting, command line) matches (grep -E).
# --service U   the systemd unit (default: `sidekiq`, used only if `systemctl show` says it is loaded,
#               and never with --match: the default unit may hold other processes than those
#               matched; a --service that is not loaded is an error). --service '' disables systemd.
# --poll S      seconds between looks at the titles (default 0.5; decimals allowed).
# --heartbeat S Sidekiq's heartbeat if it was changed from the default (see quiet).
#
# Exit codes: 0 done; 2 --timeout passed with jobs still running, or wake/stop refused (nothing killed);
#             3 no Sidekiq process found and nothing could be done; 1 any other failure; 64 usage.
# Output: progress on stderr (each poll's view when it changes, and every 10 s). The last line on
# stdout is one JSON object:
#   {"action":"quiet","result":"drained","elapsed_seconds":7.9,"processes":[{"pid":4242,
#    "version":"6.4.1","tag":"","busy":0,"concurrency":3,"quiet":true}]}
# result: quiet -> drained | timeout | no_sidekiq;   stop -> stopped | timeout | refused | no_sidekiq
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
nodec() { # sets _n to $1 without leading zeros, so that $(( )) does not read it as octal
  _n=$1
  while :; do case $_n in 0?*) _n=${_n#0} ;; *) break ;; esac; done
}
now_cs() {
  # The kernel prints uptime as %lu.%02lu: no leading zero in the whole part and exactly two
  # decimals, so "1$_f" is 100-199 whatever the decimals are.
  read -r _up _rest </proc/uptime
  _i=${_up%.*} _f=${_up#*.}
  NOW=$((_i * 100 + 1$_f - 100))
}
# "12" or "0.5" -> centiseconds in CS; fails on anything else
to_cs() {
  case $1 in '' | *[!0-9.]* | *.*.* | .* | *.) return 1 ;; esac
  _i=${1%%.*}
  _f=
  case $1 in *.*) _f=${1#*.} ;; esac
  _f="${_f}00"
  _f=${_f%"${_f#??}"}
  nodec "$_i"
  CS=$((_n * 100 + 1$_f - 100))
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
  # Read with builtins (this runs for every candidate at every poll). All lines, as the command
  # name between the parentheses may itself hold a newline: the state follows the last ") ".
  _st=""
  { while IFS= read -r _l; do _st="$_st$_l "; done <"/proc/$1/stat"; } 2>/dev/null || return 1
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
# scan: sets PROCS (lines "pid|version|busy|concurrency|quiet|tag"), PIDS (the same pids, " 1 2"),
# NPROCS, STARTING (pids)
scan() {
  PROCS=""
  PIDS=""
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
    # "version|busy|concurrency|tag", with no fork (as sed 's/^sidekiq \([0-9][^ ]*\) \(.*\)\[\([0-9][0-9]*\)
    # of \([0-9][0-9]*\) busy\]$/\1|\3|\4|\2/' gave it): the counts follow the last "[" (the only
    # one the greedy \(.*\) can leave), the version is the first word (the case checked its digit)
    # and the tag is what lies between them.
    _r=${_t##*"["}
    _h=${_t%"[$_r"}
    _h=${_h#sidekiq }
    case $_r in *' of '*' busy]') ;; *) continue ;; esac
    _r=${_r%' busy]'}
    _busy=${_r%%' of '*}
    _conc=${_r#*' of '}
    case $_busy in '' | *[!0-9]*) continue ;; esac
    case $_conc in '' | *[!0-9]*) continue ;; esac
    case $_h in *' '*) ;; *) continue ;; esac
    _p="${_h%%' '*}|$_busy|$_conc|${_h#*' '}"
    _ver=${_p%%|*}
    _p=${_p#*|}
    _busy=${_p%%|*}
    _p=${_p#*|}
    _conc=${_p%%|*}
    _tag=${_p#*|}
    _tag=${_tag% } # the space before "[" (an empty tag leaves just that one)
    nodec "$_busy"
    _busy=$_n
    nodec "$_conc"
    PROCS="$PROCS$_pid|$_ver|$_busy|$_n|$_q|$_tag
"
    PIDS="$PIDS $_pid"
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
still_live() { # still_live PIDS: sets LIVE to those of PIDS that still run (see live)
  LIVE=""
  for _lp in $1; do if live "$_lp"; then LIVE="$LIVE $_lp"; fi; done
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
  if [ -n "$MATCH" ] && [ "$SERVICE_GIVEN" = 0 ]; then
    log "--match without --service: not using the default systemd unit $SERVICE"
    return 0
  fi
  _ls=""
  if command -v systemctl >/dev/null 2>&1; then
    _ls=$(systemctl show -p LoadState "$SERVICE" 2>/dev/null || true)
  fi
  case $_ls in
    *LoadState=loaded*) UNIT=$SERVICE ;;
    *) if [ "$SERVICE_GIVEN" = 1 ]; then fail "systemd unit $SERVICE is not loaded (--service)"; fi ;;
  esac
}
in_unit() { # in_unit PID: PID is UNIT's main process, or its cgroup is UNIT's (see unit_members)
  [ "$1" != "$UNIT_MAIN" ] || return 0
  _cg=$(cat "/proc/$1/cgroup" 2>/dev/null) || return 1
  while IFS= read -r _l; do
    _l=${_l#*:}
    _l=${_l#*:}
    case $_l/ in */"$UNIT_CG"/* | */"$UNIT"/*) return 0 ;; esac
  done <<EOF
$_cg
EOF
  return 1
}
unit_main() { # sets UNIT_MAIN to UNIT's main pid as systemd says (0: none)
  UNIT_MAIN=$(systemctl show -p MainPID "$UNIT" 2>/dev/null || true)
  UNIT_MAIN=${UNIT_MAIN#*MainPID=}
  case $UNIT_MAIN in '' | *[!0-9]*) UNIT_MAIN=0 ;; esac
}
svc_of() { # sets SVC to the systemd service whose cgroup PID is in (innermost unit: `*.service`), or ''
  SVC=""
  _cg=$(cat "/proc/$1/cgroup" 2>/dev/null) || return 0
  while IFS= read -r _l; do
    _l=${_l#*:}
    _l=${_l#*:}
    while [ -n "$_l" ]; do
      case ${_l##*/} in
        *.service)
          SVC=${_l##*/}
          return 0
          ;;
        *.scope | *.slice) break ;;
      esac
      case $_l in */*) _l=${_l%/*} ;; *) _l="" ;; esac
    done
  done <<EOF
$_cg
EOF
}
# unit_members OKPIDS: sets UNIT_IN (pids of OKPIDS in UNIT) and UNIT_OTHERS (every other live
# Sidekiq process in UNIT, whatever its title says or --match selects, including starting ones).
# UNIT_MAIN: the unit's main pid (unit_main), or 0 to go by cgroups only.
unit_members() {
  UNIT_CG=$UNIT
  case $UNIT in *.*) ;; *) UNIT_CG=$UNIT.service ;; esac
  _sp=$PROCS _si=$PIDS _sn=$NPROCS _ss=$STARTING _sm=$MATCH
  MATCH=""
  scan
  _all="$PIDS $STARTING"
  PROCS=$_sp PIDS=$_si NPROCS=$_sn STARTING=$_ss MATCH=$_sm
  UNIT_IN=""
  UNIT_OTHERS=""
  for _pid in $_all $1; do
    if pid_in "$_pid" "$UNIT_IN $UNIT_OTHERS" || ! in_unit "$_pid"; then continue; fi
    if pid_in "$_pid" "$1"; then UNIT_IN="$UNIT_IN $_pid"; else UNIT_OTHERS="$UNIT_OTHERS $_pid"; fi
  done
}

# --- bounded commands ---------------------------------------------------------------------------
# run_bounded DESC CMD...: runs CMD in the background and waits for it until DEADLINE. Its output
# goes to a temporary file, copied to stderr when it ends, so that a CMD outliving this script keeps
# no pipe of ours open. At the deadline CMD is left running (never killed) and this script fails.
run_bounded() {
  _desc=$1
  shift
  _out=$(mktemp 2>/dev/null) || _out=/dev/null
  "$@" </dev/null >"$_out" 2>&1 &
  _bg=$!
  while live "$_bg"; do
    now_cs
    if [ "$NOW" -ge "$DEADLINE" ]; then
      [ "$_out" = /dev/null ] || log "its output so far is in $_out"
      procs_json
      fail "$_desc has not finished by the --timeout (${TIMEOUT}s); it keeps running (pid $_bg), nothing was killed"
    fi
    sleep_poll
  done
  _brc=0
  wait "$_bg" || _brc=$?
  if [ "$_out" != /dev/null ]; then
    cat "$_out" >&2 || true
    rm -f "$_out"
  fi
  return "$_brc"
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
        _maj=${_ver%%.*} # the major version if it is a plain number, else empty
        case $_maj in *[!0-9]*) _maj="" ;; esac
        eval "SIG_$_pid=$NOW MAJ_$_pid=$_maj KEY_$_pid=''"
        if [ "$_q" = false ]; then
          # USR1 kills Sidekiq 6 and 7: only a plain numeric major below 5 gets it.
          _name=TSTP
          if [ -n "$_maj" ] && [ "$_maj" -lt 5 ] 2>/dev/null; then _name=USR1; fi
          log "pid $_pid: sending $_name (sidekiq $_ver)"
          kill -s "$_name" "$_pid" 2>/dev/null || log "pid $_pid: could not signal (gone?)"
        fi
      fi
      # When the title changes, the heartbeat that wrote it ran after the previous look.
      eval "_key=\$KEY_$_pid _seen=\${SEEN_$_pid:--1} _maj=\$MAJ_$_pid"
      # shellcheck disable=SC2154 # _key, _seen (and _born below) are set by eval
      if [ "$_key" != "$_busy|$_q" ]; then eval "KEY_$_pid='$_busy|$_q' BORN_$_pid=$_seen"; fi
      eval "SEEN_$_pid=$NOW _born=\$BORN_$_pid"
      if [ "$_q" = true ] && [ "$_busy" -eq 0 ]; then
        _beat=$HEARTBEAT_CS
        if [ -z "$_beat" ]; then
          _beat=500
          [ "$_maj" -lt 7 ] 2>/dev/null || _beat=1000
        fi
        # shellcheck disable=SC2154
        [ "$_born" -ge $((_sig + GUARD_CS)) ] || [ "$NOW" -ge $((_sig + GUARD_CS + _beat + GUARD_CS)) ] || _ok=0
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
  _pids=$PIDS
  if [ -n "$UNIT" ]; then
    # systemctl stop shuts down every process of the unit: only if each one is drained.
    unit_main
    unit_members "$_pids"
    if [ -z "$UNIT_IN" ]; then
      log "none of the drained pid(s)$_pids is in unit $UNIT (main pid $UNIT_MAIN): not stopping the unit; TERM to each instead"
      UNIT=""
    elif [ -n "$UNIT_OTHERS" ]; then
      log "refused: unit $UNIT also runs pid(s)$UNIT_OTHERS, not drained (awake, busy, starting or not selected by --match); stopping the unit would shut them down. Nothing was stopped or killed"
      finish refused 2
    fi
  fi
  # When a unit's main process exits, systemd stops the rest of the unit: a process to TERM that is
  # the main process of a systemd service (its cgroup's) must share it with no process not drained.
  _su=$UNIT _sin=${UNIT_IN:-}
  if command -v systemctl >/dev/null 2>&1; then
    for _pid in $_pids; do
      if [ -n "$_su" ] && pid_in "$_pid" "$_sin"; then continue; fi
      svc_of "$_pid"
      [ -n "$SVC" ] || continue
      UNIT=$SVC
      unit_main
      [ "$UNIT_MAIN" = "$_pid" ] || continue
      unit_members "$_pids"
      if [ -n "$UNIT_OTHERS" ]; then
        log "refused: drained pid $_pid is the main process of systemd unit $SVC, which also runs pid(s)$UNIT_OTHERS, not drained (awake, busy, starting or not selected by --match); when it exits, systemd stops the rest of the unit. Nothing was stopped or killed"
        finish refused 2
      fi
    done
  fi
  UNIT=$_su UNIT_IN=$_sin
  if [ -n "$UNIT" ]; then
    log "systemctl stop $UNIT (its drained pid(s):$UNIT_IN)"
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
    still_live "$_pids"
    [ -n "$LIVE" ] || break
    now_cs
    [ "$NOW" -lt "$DEADLINE" ] || fail "still running after TERM:$LIVE (not killed)"
    if [ $((NOW - VIEW_AT)) -ge $LOG_EVERY_CS ]; then
      log "[$(fmt_cs $((NOW - START)))s] waiting for exit:$LIVE"
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
    while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
      [ -n "$_pid" ] || continue
      if [ "$_q" = false ] && ! pid_in "$_pid" "$OLD_ALL"; then _fresh=1; fi
    done <<EOF
$PROCS
EOF
    still_live "$OLD_QUIET"
    if [ "$_fresh" = 1 ] && [ -z "$LIVE" ] && [ -z "$STARTING" ]; then return 0; fi
    now_cs
    [ "$NOW" -lt "$DEADLINE" ] || fail "no fresh sidekiq process by the deadline (still old:${LIVE:- none})"
    sleep_poll
  done
}
# start_or_restart VERB WHY: `systemctl VERB UNIT` if there is a unit, else the restart command
# (bounded, see run_bounded; either failing is fatal). Returns 1 when there is neither.
start_or_restart() {
  if [ -n "$UNIT" ]; then
    log "$2: systemctl $1 $UNIT"
    run_bounded "systemctl $1 $UNIT" systemctl "$1" "$UNIT" || fail "systemctl $1 $UNIT failed"
  elif [ -n "$RESTART_CMD" ]; then
    log "$2: running the restart command"
    run_bounded "the restart command" sh -c "$RESTART_CMD" || fail "restart command failed"
  else
    return 1
  fi
}
do_wake() {
  find_unit
  wait_not_starting
  show_view
  OLD_ALL=$PIDS
  OLD_QUIET=""
  _busyq=""
  while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
    [ -n "$_pid" ] || continue
    if [ "$_q" = true ]; then
      OLD_QUIET="$OLD_QUIET $_pid"
      [ "$_busy" -eq 0 ] || _busyq="$_busyq $_pid"
    fi
  done <<EOF
$PROCS
EOF
  if [ "$NPROCS" -eq 0 ]; then
    if ! start_or_restart start "no sidekiq process"; then
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
      # systemctl restart shuts down every process of the unit: only if each one is quiet and idle
      # (or quiet and busy with --force), and only if it holds some of the quiet ones.
      unit_main
      unit_members "$OLD_QUIET"
      if [ -n "$UNIT_OTHERS" ]; then
        procs_json
        log "refused: unit $UNIT also runs pid(s)$UNIT_OTHERS, which are awake, busy, starting or not selected by --match; restarting the unit would shut them down. Nothing was restarted"
        finish refused 2
      fi
      if [ -z "$UNIT_IN" ]; then
        if [ -z "$RESTART_CMD" ]; then
          procs_json
          fail "none of the quiet pid(s)$OLD_QUIET is in unit $UNIT (main pid $UNIT_MAIN); name their unit with --service, or give --restart-command"
        fi
        log "none of the quiet pid(s)$OLD_QUIET is in unit $UNIT (main pid $UNIT_MAIN): using the restart command instead"
        UNIT=""
      fi
    fi
    if ! start_or_restart restart "restarting quiet pid(s)$OLD_QUIET"; then
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
