#!/bin/sh
# sidekiqctl.sh — quiet, stop, wake or inspect the Sidekiq processes of this host, safely.
#
# Runs under SSM Run Command on EC2, in Elastic Beanstalk platform hooks, in containers. POSIX sh
# (dash, busybox ash, bash); Linux only (reads /proc). The promise: no job is lost and no worker is
# shut down while it still runs jobs. It never sends KILL.
#
#   sidekiqctl.sh quiet  [--timeout S] [--poll S] [--match ERE] [--heartbeat S]
#   sidekiqctl.sh stop   [--timeout S] [--poll S] [--match ERE] [--heartbeat S] [--supervisor SUP]
#   sidekiqctl.sh wake   [--force] [--match ERE] [--supervisor SUP] [--restart-command CMD] [--timeout S]
#   sidekiqctl.sh status [--match ERE]
#
# Titles (/proc/PID/cmdline, rewritten by Sidekiq at every heartbeat: 5 s in 5.x/6.x, 10 s in 7.x/8.x):
#   sidekiq <version> <tag> [<busy> of <concurrency> busy] <words>...
# The tag may be empty (two spaces: every version from 4.2 to 8.x writes `tag || ""`); one space is
# accepted too (a replaced PROCTITLES). <words> are what follows:
# `stopping` once quiet (after TSTP, or TERM), and anything an extension appends (Enterprise's
# `leader`, PROCTITLES); `stopping` among them means quiet. A title is untrusted data (any local user
# can set any title): parsed strictly (version [0-9][0-9A-Za-z.]*, counts of 1-9 digits), never
# evaluated, JSON-escaped. A title that starts `sidekiq <digit>` but does not parse (hostile, or cut
# short by Ruby's argv space) is "unparseable": never signalled, reported by pid and title; the
# parseable processes are still handled and the run ends with exit 1, result "unparseable".
# A process still titled `ruby .../sidekiq ...` has not had its first heartbeat ("starting").
#
# Supervisor: who restarts a process decides how it is stopped and woken. Found per process: an
# ancestor supervisord (the program, from the SUPERVISOR_* variables supervisord puts in its
# environment), runsv (runit: the service directory), a sidekiqswarm parent (Enterprise: by its comm,
# or by its title `sidekiqswarm, ...` under ruby/bundle; if the swarm itself is in a systemd service,
# that service); else the systemd service of its cgroup
# (/proc/PID/cgroup, any *.service: sidekiq@2.service, an Elastic Beanstalk Procfile unit; one under
# a per-user manager, .../user@N.service/.../U.service, is refused: systemctl --user is not driven);
# else none.
# --supervisor SUP overrides discovery: systemd:UNIT | supervisord:PROGRAM | runit:DIR | none
# (--service UNIT = --supervisor systemd:UNIT).
#
# quiet  TSTP to each process (Sidekiq >= 4.2.9; USR1 only for a plain numeric major below 5: USR1
#        kills Sidekiq 6+), then wait until every process is quiet with 0 busy, or --timeout
#        (default 3600). Quiet is trusted when the title says `stopping` and either the Sidekiq job
#        threads (named `processor` in 6.x) seen before are all gone, or the title changed after
#        `stopping` was first seen, or one heartbeat (--heartbeat; default 5 s, 10 s for 7+) plus 1 s
#        has passed since: a heartbeat right after quiet took effect may not count a job just fetched.
# stop   quiet as above; then, one call per distinct supervisor: `systemctl stop UNIT`,
#        `supervisorctl stop PROGRAM`, `sv down DIR`, TERM to the swarm parent; TERM to each process
#        with none. Refused (exit 2, result "refused", nothing stopped) when the supervisor also runs
#        a Sidekiq process that is not drained, when its control command is missing, when the
#        supervisord program cannot be told, or when what it stops cannot be recorded for wake
#        (read-only state; fine with --supervisor, which wake can be given too). What was stopped is
#        recorded in $SIDEKIQCTL_STATE_DIR/stopped (default /var/lib/sidekiqctl) for wake. Then waits for the exits
#        and watches one heartbeat more (at least 5 s): a Sidekiq process that came back is "respawned" (exit 1).
#        If the drain times out, nothing is shut down (exit 2).
# wake   a quiet process cannot be woken, only restarted. Restarts the supervisors of the quiet idle
#        processes (`systemctl restart`, `supervisorctl restart`, `sv restart`; TERM to a swarm child,
#        which the swarm replaces; with none: --restart-command) and starts what stop recorded. With
#        --restart-command, runs only that (sh -c). A quiet process still running jobs is not
#        restarted (exit 2) unless --force (Sidekiq pushes unfinished jobs back to Redis after -t);
#        a supervisor that also runs an awake process is not restarted (exit 2). Then waits until the
#        old quiet processes are gone and each restarted supervisor runs a fresh, non-quiet process.
#        --timeout (default 120) bounds it; a restart command still running then is left running.
# status prints the state of every process; changes nothing.
#
# --match ERE   only processes whose title (or, while starting, command line) matches (grep -E).
# --poll S      seconds between looks (default 0.5).   --heartbeat S  Sidekiq's heartbeat if changed.
# SIDEKIQCTL_OWN_PID_NS=1 in the environment: only processes of this PID namespace (not containers').
#
# Exit codes: 0 done; 2 --timeout passed with jobs still running, or refused (nothing killed);
#             3 no Sidekiq process found and nothing could be done; 1 any other failure (including
#             unparseable and respawned); 64 usage.
# Output: progress on stderr. The last line on stdout is one JSON object:
#   {"action":"quiet","result":"drained","elapsed_seconds":7.9,"processes":[{"pid":4242,
#    "version":"6.4.1","tag":"","busy":0,"concurrency":3,"quiet":true}]}
# plus "unparseable":[{"pid":N,"title":"..."}] when there is such a title.
# result: quiet -> drained | timeout | no_sidekiq;  stop -> stopped | timeout | refused | respawned |
#         no_sidekiq;  wake -> woken | already_awake | refused | no_sidekiq;  status -> status |
#         no_sidekiq;  any -> unparseable (exit 1) | error (exit 1) | usage (exit 64, action "" if unknown).
# processes: as last seen (stop: before shutting down, respawned: the ones that came back; wake: fresh).
# shellcheck disable=SC2015 # `A && B || C` here always means: C unless both A and B
set -eu

PROG=sidekiqctl
GUARD_CS=100
LOG_EVERY_CS=1000
NL='
'
USAGE='usage: sidekiqctl.sh quiet|stop|wake|status [--timeout S] [--poll S] [--match ERE] [--supervisor SUP] [--service UNIT] [--restart-command CMD] [--force] [--heartbeat S]'

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# --- time: centiseconds from /proc/uptime (monotonic, no fork) ---------------------------------
nodec() { # sets _n to $1 without leading zeros, so that $(( )) does not read it as octal
  _n=$1
  while :; do case $_n in 0?*) _n=${_n#0} ;; *) break ;; esac; done
}
now_cs() {
  read -r _up _rest </proc/uptime
  _ui=${_up%.*} _uf=${_up#*.}
  NOW=$((_ui * 100 + 1$_uf - 100))
}
to_cs() { # "12" or "0.5" -> centiseconds in CS; fails on anything else
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
json_esc() { # sets J to $1 escaped for a JSON string (titles hold no control characters, see scan);
  # `|` too (as \u007c), so that an escaped field can sit in a |-separated record.
  J="" _s=$1
  while :; do
    _p=${_s%%[\"\\|]*}
    J=$J$_p
    [ "$_p" != "$_s" ] || return 0
    _s=${_s#"$_p"}
    case $_s in
      \"*) J="$J\\\"" ;;
      \\*) J="$J\\\\" ;;
      *) J="$J\\u007c" ;;
    esac
    _s=${_s#?}
  done
}
PROCS_JSON=""
UNP_JSON=""
finish() { # finish RESULT EXIT_CODE
  now_cs
  printf '{"action":"%s","result":"%s","elapsed_seconds":%s,"processes":[%s]%s}\n' \
    "$ACTION" "$1" "$(fmt_cs $((NOW - START)))" "$PROCS_JSON" "${UNP_JSON:+,\"unparseable\":[$UNP_JSON]}"
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
stat_of() { # sets _state and _ppid of PID; fails if it is gone. Builtins only (runs at every poll).
  _st=""
  { while IFS= read -r _l; do _st="$_st$_l "; done <"/proc/$1/stat"; } 2>/dev/null || return 1
  _st=${_st##*) } # the command name in parentheses may hold anything: the fields follow the last ") "
  _state=${_st%% *}
  _st=${_st#* }
  _ppid=${_st%% *}
}
live() { # a process counts only if it exists and is neither a zombie nor dead
  stat_of "$1" || return 1
  case $_state in Z | X | x | '') return 1 ;; esac
}
matches() { [ -z "$MATCH" ] || printf '%s\n' "$1" | grep -E -q -e "$MATCH"; }
runs() { # runs NAME CMDLINE: argv0 is NAME, or ruby/bundle running NAME (words 2-4)
  _rn=$1
  set -f
  # shellcheck disable=SC2086 # splitting the command line into words is the point
  set -- $2
  set +f
  [ $# -gt 0 ] || return 1
  [ "${1##*/}" = "$_rn" ] && return 0
  case ${1##*/} in ruby* | bundle* | jruby*) ;; *) return 1 ;; esac
  for _w in "${2:-}" "${3:-}" "${4:-}"; do [ "${_w##*/}" = "$_rn" ] && return 0; done
  return 1
}
is_starting() { runs sidekiq "$1"; }
# A sidekiqswarm parent: its comm is `ruby` or `bundle` when started as `bundle exec sidekiqswarm`
# (Ruby's $0= leaves comm alone), so its command line decides: `sidekiqswarm, managing N processes`
# (Enterprise's title), or sidekiqswarm run by ruby/bundle before that title is set.
is_swarm() {
  _sc=$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) || return 1
  case $_sc in 'sidekiqswarm, '*) return 0 ;; esac
  runs sidekiqswarm "$_sc"
}
digits() { case $1 in '' | *[!0-9]* | ??????????*) return 1 ;; esac; }
# parse TITLE: 0 and _ver _busy _conc _q _tag (JSON-escaped) when it is a Sidekiq title; 1 when it
# does not start like one; 2 when it starts `sidekiq <digit>` but does not parse.
parse() {
  case $1 in 'sidekiq '[0-9]*) ;; *) return 1 ;; esac
  _r=${1#sidekiq }
  _ver=${_r%%' '*}
  [ "$_ver" != "$_r" ] || return 2
  case $_ver in *[!0-9A-Za-z.]*) return 2 ;; esac
  _r=${_r#"$_ver "}
  _h=${_r%%'['[0-9]*' of '[0-9]*' busy]'*} # the tag (and its space): up to the first "[N of M busy]"
  [ "$_h" != "$_r" ] || return 2
  _r=${_r#"${_h}["}
  _busy=${_r%%' of '*}
  _r=${_r#*' of '}
  _conc=${_r%%' busy]'*}
  _x=${_r#*' busy]'}
  digits "$_busy" && digits "$_conc" || return 2
  case $_x in '' | ' '*) ;; *) return 2 ;; esac
  case $_h in '') ;; *' ') _h=${_h% } ;; *) return 2 ;; esac
  _q=false
  case "$_x " in *' stopping '*) _q=true ;; esac
  json_esc "$_h"
  _tag=$J
  nodec "$_busy"
  _busy=$_n
  nodec "$_conc"
  _conc=$_n
}
# scan: sets PROCS (lines "pid|version|busy|concurrency|quiet|tag"), PIDS, NPROCS, STARTING (pids),
# UNPARSED (pids) and UNP_JSON. A failure to list or read /proc is an error, never "no Sidekiq".
scan() {
  PROCS="" PIDS="" NPROCS=0 STARTING="" UNPARSED="" UNP_JSON=""
  _out=$(grep -l -e sidekiq /proc/[0-9]*/cmdline 2>&1) || :
  _cands=""
  while IFS= read -r _l; do
    case $_l in
      '') ;;
      /proc/*/cmdline) _cands="$_cands $_l" ;;
      *) # grep's complaint: fine only about a process that has gone meanwhile
        _e=${_l#*/proc/}
        _e=${_e%%/*}
        if ! digits "$_e" || live "$_e"; then fail "cannot list processes in /proc: $_l"; fi
        ;;
    esac
  done <<EOF
$_out
EOF
  for _f in $_cands; do
    _pid=${_f#/proc/}
    _pid=${_pid%/cmdline}
    digits "$_pid" && [ "$_pid" != "$$" ] || continue
    # Other PID namespaces' processes (containers) are left out when asked; an unreadable link is kept.
    if [ -n "$OWN_NS" ]; then
      _ns=$(readlink "/proc/$_pid/ns/pid" 2>/dev/null) || _ns=""
      [ -z "$_ns" ] || [ "$_ns" = "$OWN_NS" ] || continue
    fi
    _t=$({ tr -c '\040-\176\200-\377' ' ' <"$_f"; } 2>/dev/null) || continue
    _trail=${_t##*[! ]}
    _t=${_t%"$_trail"}
    [ -n "$_t" ] && live "$_pid" || continue
    _rc=0
    parse "$_t" || _rc=$?
    case $_rc in
      0) matches "$_t" || continue ;;
      2)
        if matches "$_t"; then
          UNPARSED="$UNPARSED $_pid"
          json_esc "$_t"
          UNP_JSON="$UNP_JSON${UNP_JSON:+,}{\"pid\":$_pid,\"title\":\"$J\"}"
        fi
        continue
        ;;
      *)
        if is_starting "$_t" && matches "$_t"; then STARTING="$STARTING $_pid"; fi
        continue
        ;;
    esac
    PROCS="$PROCS$_pid|$_ver|$_busy|$_conc|$_q|$_tag$NL"
    PIDS="$PIDS $_pid"
    NPROCS=$((NPROCS + 1))
  done
}
report_unparsed() {
  [ -n "$UNPARSED" ] || return 0
  procs_json
  finish_unparsed
}
finish_unparsed() {
  log "unparseable Sidekiq-like title(s), not signalled, not counted: [$UNP_JSON]"
  finish unparseable 1
}
procs_json() {
  PROCS_JSON=""
  while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
    [ -n "$_pid" ] || continue
    PROCS_JSON="$PROCS_JSON${PROCS_JSON:+,}{\"pid\":$_pid,\"version\":\"$_ver\",\"tag\":\"$_tag\",\"busy\":$_busy,\"concurrency\":$_conc,\"quiet\":$_q}"
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
  for _pid in $UNPARSED; do _v="$_v${_v:+; }pid $_pid: unparseable title"; done
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
job_threads() { # sets _nt to the number of PID's threads named `processor` (Sidekiq 6's job threads)
  _nt=0
  for _c in /proc/"$1"/task/*/comm; do
    { read -r _cn <"$_c"; } 2>/dev/null || continue
    [ "$_cn" != processor ] || _nt=$((_nt + 1))
  done
}

# --- supervisors --------------------------------------------------------------------------------
# A supervisor is a key "KIND ID [URL]": systemd UNIT | supervisord PROGRAM URL|- | runit DIR |
# swarm PID | none -. IDs come from /proc; they are checked against safe characters, never evaluated.
safe() { case $1 in '' | *[!A-Za-z0-9@:/._-]*) return 1 ;; esac; }
# svc_of PID: sets SVC to the systemd service whose cgroup PID is in (innermost `*.service`), or '';
# SVC_UID to N when that service belongs to the per-user manager user@N.service (else '')
svc_of() {
  SVC="" SVC_UID=""
  _cg=$(cat "/proc/$1/cgroup" 2>/dev/null) || return 0
  while IFS= read -r _l; do
    _l=${_l#*:}
    _l=${_l#*:}
    while [ -n "$_l" ]; do
      case ${_l##*/} in
        *.service)
          SVC=${_l##*/}
          safe "$SVC" || SVC=""
          case $_l in */user@*.service/*)
            SVC_UID=${_l#*/user@}
            SVC_UID=${SVC_UID%%.service/*}
            digits "$SVC_UID" || SVC_UID="?"
            ;;
          esac
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
env_of() { # env_of PID NAME: sets _ev to NAME's value in PID's environment, or ''
  _ev=$({ tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | sed -n "s/^$2=//p" | head -n 1) || _ev=""
}
discover() { # discover PID: sets SUP, the key of who restarts PID (see above), ignoring --supervisor
  _a=$1 _sw="" _dk=0
  while [ "$_dk" -lt 40 ] && stat_of "$_a" && [ "$_ppid" -gt 1 ] 2>/dev/null; do
    _dk=$((_dk + 1))
    _a=$_ppid
    _cm=""
    { read -r _cm <"/proc/$_a/comm"; } 2>/dev/null || :
    case $_cm in
      supervisord*)
        env_of "$1" SUPERVISOR_GROUP_NAME
        _g=$_ev
        env_of "$1" SUPERVISOR_PROCESS_NAME
        _p=$_ev
        env_of "$1" SUPERVISOR_SERVER_URL
        case $_ev in unix:///* | http://127.0.0.1:* | http://localhost:*) ;; *) _ev=- ;; esac
        SUP="supervisord $_g:$_p $_ev"
        safe "$_g$_p$_ev" || SUP="supervisord ? -"
        return 0
        ;;
      runsv)
        _d=$(cd "/proc/$_a/cwd" 2>/dev/null && pwd -P) || _d=""
        safe "$_d" || _d="?"
        SUP="runit $_d"
        return 0
        ;;
      sidekiqswarm*) [ -n "$_sw" ] || _sw=$_a ;;
      ruby* | bundle* | jruby*) [ -n "$_sw" ] || ! is_swarm "$_a" || _sw=$_a ;;
    esac
  done
  svc_of "${_sw:-$1}"
  if [ -n "$SVC_UID" ]; then
    SUP="systemd-user $SVC_UID:${SVC:-?}"
  elif [ -n "$SVC" ]; then
    SUP="systemd $SVC"
  elif [ -n "$_sw" ]; then
    SUP="swarm $_sw"
  else
    SUP="none -"
  fi
}
sup_of() { # like discover, but --supervisor wins
  if [ -n "$SUP_GIVEN" ]; then SUP=$SUP_GIVEN; else discover "$1"; fi
}
norm_unit() { case $1 in *.*) _u=$1 ;; *) _u=$1.service ;; esac; }
same_sup() { # same_sup GIVEN_OR_DISCOVERED_KEY DISCOVERED_KEY
  [ "$1" != "$2" ] || return 0
  set -f
  # shellcheck disable=SC2086 # keys are space-separated words of safe characters
  set -- $1 $2
  set +f
  [ "$1" = "${4:-}" ] || return 1
  case $1 in
    systemd)
      norm_unit "$2"
      _a=$_u
      norm_unit "$4"
      [ "$_a" = "$_u" ]
      ;;
    supervisord) [ "$2" = "${5%%:*}" ] || [ "$2" = "$5" ] ;;
    *) return 1 ;;
  esac
}
sup_name() { # human text for a key
  set -f
  # shellcheck disable=SC2086
  set -- $1
  set +f
  case $1 in
    systemd) SN="systemd unit $2" ;;
    systemd-user) SN="systemd user unit ${2#*:} of user@${2%%:*}.service" ;;
    supervisord) SN="supervisord program $2" ;;
    runit) SN="runit service $2" ;;
    swarm) SN="sidekiqswarm pid $2" ;;
    *) SN="no supervisor" ;;
  esac
}
# sup_cmd KEY VERB: runs the supervisor's command (VERB: stop | start | restart), bounded by the
# deadline; returns 1 when the KEY has no such command (caller decides). Fails when it fails.
sup_cmd() {
  _v=$2
  set -f
  # shellcheck disable=SC2086
  set -- $1
  set +f
  case $1 in
    systemd) set -- systemctl "$_v" "$2" ;;
    supervisord)
      if [ "$3" = - ]; then set -- supervisorctl "$_v" "$2"; else set -- supervisorctl -s "$3" "$_v" "$2"; fi
      ;;
    runit) # sv restart waits 7 s by default, less than Sidekiq's -t: wait up to the deadline instead
      [ "$_v" != stop ] || _v=down
      [ "$_v" != start ] || _v=up
      now_cs
      set -- sv -w $(((DEADLINE - NOW) / 100 + 1)) "$_v" "$2"
      ;;
    *) return 1 ;;
  esac
  log "$*"
  run_bounded "$*" "$@" || fail "$* failed"
}
# can_control KEY: fails (with WHY) when stop/start through KEY cannot work here
can_control() {
  sup_name "$1"
  WHY=""
  case $1 in
    'systemd '*)
      if ! command -v systemctl >/dev/null 2>&1; then
        WHY="$SN, but no systemctl here"
      else
        case $(systemctl show -p LoadState "${1#systemd }" 2>/dev/null) in
          *=loaded*) ;;
          *) WHY="$SN is not loaded" ;;
        esac
      fi
      ;;
    'systemd-user '*) WHY="$SN, a per-user systemd manager, which this script does not drive (systemctl --user): use systemctl --user -M USER@ stop|restart|start ${1#*:} yourself, or give wake --restart-command" ;;
    'supervisord ? '*) WHY="supervisord, but its program or server URL is not in the process's environment" ;;
    supervisord*) command -v supervisorctl >/dev/null 2>&1 || WHY="$SN, but no supervisorctl here" ;;
    'runit ?') WHY="runsv, but its service directory is unreadable" ;;
    runit*) command -v sv >/dev/null 2>&1 || WHY="$SN, but no sv here" ;;
  esac
  [ -z "$WHY" ]
}
refuse() {
  log "refused: $1. Nothing was stopped or killed"
  procs_json
  finish refused 2
}
HELP_FLAG='--supervisor systemd:UNIT|supervisord:PROGRAM|runit:DIR|none'
# group_by_sup PIDS: sets SUPS (distinct keys, one a line) and UNSUP (those of PIDS with no supervisor)
group_by_sup() {
  SUPS="" UNSUP=""
  for _gp in $1; do
    sup_of "$_gp"
    [ "$SUP" != "none -" ] || UNSUP="$UNSUP $_gp"
    case "$NL$SUPS" in *"$NL$SUP$NL"*) ;; *) SUPS="$SUPS$SUP$NL" ;; esac
  done
}
# others KEY OKPIDS: sets OTHERS to the live Sidekiq processes (any title, starting, unparseable;
# whatever --match says) run by KEY's supervisor but not in OKPIDS
others() {
  OTHERS=""
  case $1 in 'none '*) return 0 ;; esac
  _sp=$PROCS _si=$PIDS _sn=$NPROCS _ss=$STARTING _su=$UNPARSED _sj=$UNP_JSON _sm=$MATCH
  MATCH=""
  scan
  _all="$PIDS $STARTING $UNPARSED"
  PROCS=$_sp PIDS=$_si NPROCS=$_sn STARTING=$_ss UNPARSED=$_su UNP_JSON=$_sj MATCH=$_sm
  for _op in $_all; do
    pid_in "$_op" "$2" && continue
    discover "$_op"
    if same_sup "$1" "$SUP"; then OTHERS="$OTHERS $_op"; fi
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
    cat "$_out" >&2 || :
    rm -f "$_out"
  fi
  return "$_brc"
}

# --- drain (quiet, and the first half of stop) --------------------------------------------------
# Per-pid state, one line each: "pid signalled_at quiet_seen_at seen_at born_at key major threads"
# (numbers and words this script made; never code). born_at: the look before the title last changed.
STATE=""
beat_of() { # beat_of MAJOR: sets _beat (centiseconds)
  _beat=$HEARTBEAT_CS
  if [ -z "$_beat" ]; then
    _beat=1000
    [ "$1" -ge 7 ] 2>/dev/null || [ -z "$1" ] || _beat=500
  fi
}
# Returns 0 when every selected process is quiet with 0 busy (as trusted per the header), 2 at the
# deadline, 3 when no process was there at the first look.
drain() {
  FIRST=1
  MAXBEAT=0
  while :; do
    scan
    now_cs
    if [ "$FIRST" = 1 ] && [ "$NPROCS" -eq 0 ] && [ -z "$STARTING$UNPARSED" ]; then return 3; fi
    FIRST=0
    _ok=1
    [ -z "$STARTING" ] || _ok=0
    _new="$NL" _rep=""
    while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
      [ -n "$_pid" ] || continue
      case $STATE in
        *"$NL$_pid "*)
          _S=${STATE#*"$NL$_pid "}
          _S=${_S%%"$NL"*}
          ;;
        *) _S="" ;;
      esac
      if [ -z "$_S" ]; then
        _maj=${_ver%%.*} # the major version if it is a plain number, else empty
        digits "$_maj" || _maj=""
        _S="$NOW -1 -1 -1 - ${_maj:--} 0"
        if [ "$_q" = false ]; then
          _name=TSTP
          if [ -n "$_maj" ] && [ "$_maj" -lt 5 ]; then _name=USR1; fi
          log "pid $_pid: sending $_name (sidekiq $_ver)"
          kill -s "$_name" "$_pid" 2>/dev/null || log "pid $_pid: could not signal (gone?)"
        fi
      fi
      set -f
      # shellcheck disable=SC2086 # the record is space-separated words this script wrote
      set -- $_S
      set +f
      _sig=$1 _qat=$2 _seen=$3 _born=$4 _key=$5 _maj=$6 _thr=$7
      [ "$_maj" != - ] || _maj=""
      if [ "$_key" != "$_busy:$_q" ]; then _key="$_busy:$_q" _born=$_seen; fi
      _seen=$NOW
      if [ "$_q" = true ] && [ "$_qat" = -1 ]; then _qat=$NOW; fi
      job_threads "$_pid"
      [ "$_nt" -eq 0 ] || _thr=1
      beat_of "$_maj"
      [ "$_beat" -le "$MAXBEAT" ] || MAXBEAT=$_beat
      if [ "$_q" = true ] && [ "$_thr" = 1 ] && [ "$_nt" -eq 0 ]; then
        _busy=0 # quiet, and every job thread seen before has ended
      elif [ "$_q" = true ] && [ "$_busy" = 0 ] &&
        { [ "$_born" -ge "$_qat" ] || [ "$NOW" -ge $((_qat + _beat + GUARD_CS)) ]; }; then
        :
      else
        _ok=0
      fi
      _new="$_new$_pid $_sig $_qat $_seen $_born $_key ${_maj:--} $_thr$NL"
      _rep="$_rep$_pid|$_ver|$_busy|$_conc|$_q|$_tag$NL"
    done <<EOF
$PROCS
EOF
    STATE=$_new
    PROCS=$_rep
    show_view
    [ "$_ok" = 0 ] || return 0
    now_cs
    [ "$NOW" -lt "$DEADLINE" ] || return 2
    sleep_poll
  done
}

# --- actions ------------------------------------------------------------------------------------
drain_or_finish() { # drain; finishes the run unless it drained
  _drc=0
  drain || _drc=$?
  procs_json
  case $_drc in
    0) ;;
    2)
      [ -z "$UNPARSED" ] || log "also unparseable: [$UNP_JSON]"
      log "timeout: jobs still running after ${TIMEOUT}s; nothing was killed"
      finish timeout 2
      ;;
    3)
      log "no sidekiq process found"
      finish no_sidekiq 3
      ;;
    *) fail "drain returned $_drc" ;;
  esac
}

do_quiet() {
  drain_or_finish
  report_unparsed
  finish drained 0
}

record() { # record KEY: remembers a stopped supervisor for wake
  mkdir -p "$STATE_DIR" 2>/dev/null && {
    grep -v -x -F -e "$1" "$STATE_DIR/stopped" 2>/dev/null || :
    printf '%s\n' "$1"
  } >"$STATE_DIR/stopped.new" 2>/dev/null && mv -f "$STATE_DIR/stopped.new" "$STATE_DIR/stopped" ||
    log "warning: could not record in $STATE_DIR/stopped that $1 was stopped; wake will not start it"
}

do_stop() {
  drain_or_finish
  _pids=$PIDS
  group_by_sup "$_pids"
  # Refuse before touching anything.
  while IFS= read -r _k; do
    [ -n "$_k" ] || continue
    sup_name "$_k"
    can_control "$_k" || refuse "$WHY; name it with $HELP_FLAG"
    others "$_k" "$_pids"
    [ -z "$OTHERS" ] || refuse "$SN also runs pid(s)$OTHERS, not drained (awake, busy, starting, unparseable or not selected by --match); stopping it would shut them down"
  done <<EOF
$SUPS
EOF
  # wake starts what stop recorded: a supervised stop that cannot be recorded could not be undone by
  # a plain wake, so it is refused, unless --supervisor named it (wake can be told the same).
  case $SUPS in
    *systemd\ * | *supervisord\ * | *runit\ *)
      [ -n "$SUP_GIVEN" ] || { mkdir -p "$STATE_DIR" && : >"$STATE_DIR/stopped.new" && rm -f "$STATE_DIR/stopped.new"; } 2>/dev/null ||
        refuse "cannot write $STATE_DIR/stopped (read-only?), so wake could not start what stop stops; set SIDEKIQCTL_STATE_DIR to a writable directory, or give --supervisor (and the same to wake)"
      ;;
  esac
  _before=$(MATCH="" && scan && echo "$PIDS $STARTING $UNPARSED")
  while IFS= read -r _k; do
    [ -n "$_k" ] || continue
    sup_name "$_k"
    record "$_k"
    case $_k in
      'swarm '*)
        log "TERM to the sidekiqswarm parent pid ${_k#swarm }"
        kill -s TERM "${_k#swarm }" 2>/dev/null || :
        ;;
      'none '*) ;;
      *) sup_cmd "$_k" stop ;;
    esac
  done <<EOF
$SUPS
EOF
  # A supervisor's stop may return before the exit (`sv down` does): the wait below covers it, and
  # a second TERM from here would only race the supervisor. TERM goes to unsupervised ones alone.
  for _pid in $UNSUP; do
    if live "$_pid"; then
      log "pid $_pid: sending TERM"
      kill -s TERM "$_pid" 2>/dev/null || :
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
  log "[$(fmt_cs $((NOW - START)))s] exited:$_pids; watching one heartbeat for a respawn"
  # One heartbeat more: a supervisor we did not know of may bring a worker back. At least 5 s:
  # supervisord restarts from a 1 s loop, and a busy host takes seconds to exec the new Ruby.
  _stopped=$PROCS_JSON
  now_cs
  _watch=$((MAXBEAT + GUARD_CS))
  [ "$_watch" -ge 500 ] || _watch=500
  _until=$((NOW + _watch))
  while :; do
    scan
    _back=""
    for _pid in $PIDS $STARTING $UNPARSED; do pid_in "$_pid" "$_before" || _back="$_back $_pid"; done
    if [ -n "$_back" ]; then
      show_view
      procs_json
      log "respawned: pid(s)$_back came back after the stop; something restarts Sidekiq here. Name it with $HELP_FLAG"
      finish respawned 1
    fi
    now_cs
    [ "$NOW" -lt "$_until" ] || break
    sleep "$POLL"
  done
  PROCS_JSON=$_stopped
  log "[$(fmt_cs $((NOW - START)))s] all stopped:$_pids"
  [ -z "$UNPARSED" ] || finish_unparsed
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
in_woke() { # in_woke KEY: KEY is (the same supervisor as) one of WOKE; sets WK to that one
  while IFS= read -r _wk; do
    [ -n "$_wk" ] || continue
    if same_sup "$_wk" "$1"; then
      WK=$_wk
      return 0
    fi
  done <<EOF
$WOKE
EOF
  return 1
}
# wait_fresh: until none of OLD_QUIET runs and each key of WOKE ("cmd": the restart command, any
# process not in OLD_ALL) runs a process that is up and not quiet; its starting ones are waited for.
wait_fresh() {
  while :; do
    scan
    show_view
    _need=$WOKE _pend="" _keep=""
    while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
      [ -n "$_pid" ] && [ "$_q" = false ] && ! pid_in "$_pid" "$OLD_QUIET" || continue
      if [ "$WOKE" = "cmd$NL" ]; then
        pid_in "$_pid" "$OLD_ALL" && continue
        SUP=cmd
      else discover "$_pid"; fi
      in_woke "$SUP" || continue
      _keep="$_keep$_pid|$_ver|$_busy|$_conc|$_q|$_tag$NL"
      _need=$(printf '%s' "$_need" | grep -v -x -F -e "$WK") || _need=""
    done <<EOF
$PROCS
EOF
    for _pid in $STARTING; do
      if [ "$WOKE" = "cmd$NL" ]; then SUP=cmd; else discover "$_pid"; fi
      if in_woke "$SUP"; then _pend="$_pend $_pid"; fi
    done
    still_live "$OLD_QUIET"
    if [ -z "$_need$_pend$LIVE" ]; then
      PROCS=$_keep
      return 0
    fi
    now_cs
    [ "$NOW" -lt "$DEADLINE" ] || fail "no fresh sidekiq process by the deadline (still old:${LIVE:- none}; starting:${_pend:- none})"
    sleep_poll
  done
}
do_wake() {
  wait_not_starting
  show_view
  OLD_ALL=$PIDS
  OLD_QUIET=""
  _busyq=""
  while IFS='|' read -r _pid _ver _busy _conc _q _tag; do
    [ -n "$_pid" ] || continue
    if [ "$_q" = true ]; then
      OLD_QUIET="$OLD_QUIET $_pid"
      [ "$_busy" = 0 ] || _busyq="$_busyq $_pid"
    fi
  done <<EOF
$PROCS
EOF
  if [ -n "$_busyq" ]; then
    if [ "$FORCE" = 1 ]; then
      log "--force: restarting although quiet pid(s)$_busyq still run jobs (Sidekiq pushes them back to Redis)"
    else
      procs_json
      log "refused: quiet pid(s)$_busyq still run jobs; wait for them, or use --force"
      finish refused 2
    fi
  fi
  _rec=""
  if [ -r "$STATE_DIR/stopped" ]; then
    while IFS= read -r _k; do
      case $_k in systemd\ * | supervisord\ * | runit\ * | swarm\ * | 'none -') ;; *) continue ;; esac
      case $_k in *[!A-Za-z0-9@:/._\ -]*) continue ;; esac
      _rec="$_rec$_k$NL"
    done <"$STATE_DIR/stopped"
  fi
  [ -n "$_rec" ] || [ "$NPROCS" -gt 0 ] || [ -z "$SUP_GIVEN" ] || _rec="$SUP_GIVEN$NL"
  if [ -z "$OLD_QUIET" ] && [ -z "$_rec" ]; then
    procs_json
    if [ "$NPROCS" -eq 0 ] && [ -z "$RESTART_CMD" ]; then
      log "no sidekiq process found, and nothing recorded as stopped (give --supervisor or --restart-command)"
      finish no_sidekiq 3
    fi
    if [ "$NPROCS" -gt 0 ]; then
      log "every process is awake; nothing to do"
      finish already_awake 0
    fi
  fi
  if [ -n "$RESTART_CMD" ]; then
    WOKE="cmd$NL"
    log "running the restart command"
    run_bounded "the restart command" sh -c "$RESTART_CMD" || fail "restart command failed"
  else
    group_by_sup "$OLD_QUIET"
    _restart=$SUPS
    WOKE=""
    while IFS= read -r _k; do
      [ -n "$_k" ] || continue
      sup_name "$_k"
      case $_k in
        'none '*)
          procs_json
          fail "quiet pid(s)$OLD_QUIET have no supervisor to restart them; give --restart-command or $HELP_FLAG"
          ;;
      esac
      can_control "$_k" || refuse "$WHY; name it with $HELP_FLAG"
      others "$_k" "$OLD_QUIET"
      [ -z "$OTHERS" ] || refuse "$SN also runs pid(s)$OTHERS, which are awake, busy, starting, unparseable or not selected by --match; restarting it would shut them down"
      WOKE="$WOKE$_k$NL"
    done <<EOF
$_restart
EOF
    while IFS= read -r _k; do
      [ -n "$_k" ] || continue
      case "$NL$WOKE" in *"$NL$_k$NL"*) continue ;; esac
      case $_k in
        'none '* | 'swarm '*)
          procs_json
          fail "stop shut Sidekiq down with TERM ($_k); give --restart-command to start it"
          ;;
      esac
      can_control "$_k" || refuse "$WHY; name it with $HELP_FLAG"
      sup_cmd "$_k" start
      WOKE="$WOKE$_k$NL"
    done <<EOF
$_rec
EOF
    while IFS= read -r _k; do
      [ -n "$_k" ] || continue
      case $_k in
        'swarm '*)
          for _pid in $OLD_QUIET; do
            discover "$_pid"
            [ "$SUP" != "$_k" ] || { log "pid $_pid: TERM (its sidekiqswarm replaces it)"; kill -s TERM "$_pid" 2>/dev/null || :; }
          done
          ;;
        *) sup_cmd "$_k" restart ;;
      esac
    done <<EOF
$_restart
EOF
  fi
  wait_fresh
  rm -f "$STATE_DIR/stopped"
  procs_json
  report_unparsed
  finish woken 0
}

do_status() {
  scan
  show_view
  procs_json
  [ -z "$UNPARSED" ] || finish unparseable 1
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
  *) usage_error "unknown action" ;;
esac
shift
TIMEOUT=""
POLL=0.5
MATCH=""
SUP_GIVEN=""
RESTART_CMD=""
FORCE=0
HEARTBEAT=""
STATE_DIR=${SIDEKIQCTL_STATE_DIR:-/var/lib/sidekiqctl}
OWN_NS=""
[ -z "${SIDEKIQCTL_OWN_PID_NS:-}" ] || OWN_NS=$(readlink /proc/$$/ns/pid) || fail "cannot read this shell's PID namespace"
allowed() { # allowed FLAG ACTIONS...
  _flag=$1
  shift
  for _a in "$@"; do [ "$_a" != "$ACTION" ] || return 0; done
  usage_error "$_flag is not an option of $ACTION"
}
need_value() { [ "$1" -ge 2 ] || usage_error "$2 needs a value"; }
while [ $# -gt 0 ]; do
  case $1 in
    --timeout | --poll) allowed "$1" quiet stop wake ;;
    --heartbeat) allowed "$1" quiet stop ;;
    --service | --supervisor) allowed "$1" stop wake ;;
    --restart-command | --force) allowed "$1" wake ;;
    --match) ;;
    *) usage_error "unknown argument: $1" ;;
  esac
  [ "$1" = --force ] || need_value $# "$1"
  case $1 in
    --timeout) TIMEOUT=$2 ;;
    --poll) POLL=$2 ;;
    --heartbeat) HEARTBEAT=$2 ;;
    --match) MATCH=$2 ;;
    --service) SUP_GIVEN="systemd $2" ;;
    --supervisor)
      case $2 in
        '') SUP_GIVEN="" ;;
        none) SUP_GIVEN="none -" ;;
        systemd:?* | runit:/?*) SUP_GIVEN="${2%%:*} ${2#*:}" ;;
        supervisord:?*) SUP_GIVEN="supervisord ${2#*:} -" ;;
        *) SUP_GIVEN="?" ;;
      esac
      ;;
    --restart-command) RESTART_CMD=$2 ;;
    --force) FORCE=1 ;;
  esac
  if [ -n "$SUP_GIVEN" ]; then
    _s=${SUP_GIVEN#* }
    _s=${_s% -}
    safe "$_s" || usage_error "$1 needs systemd:UNIT, supervisord:PROGRAM, runit:DIR or none"
  fi
  [ "$1" = --force ] || shift
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
  [ "$_rc" -ne 2 ] || usage_error "--match is not a valid extended regular expression"
fi
[ -r /proc/uptime ] || fail "/proc is not mounted: this script needs Linux /proc"
[ -r /proc/1/stat ] || fail "process 1 is not visible in /proc (hidepid?): cannot see Sidekiq processes"
DEADLINE=$((START + TIMEOUT_CS))

case $ACTION in
  quiet) do_quiet ;;
  stop) do_stop ;;
  wake) do_wake ;;
  status) do_status ;;
esac
