#!/bin/sh
# sidekiqctl.sh — quiet, stop, wake or inspect the Sidekiq processes of this host, safely.
#
# Runs under SSM Run Command on EC2, in Elastic Beanstalk platform hooks, in containers. POSIX sh
# (dash, busybox ash, bash); Linux only (reads /proc). The promise: no job is lost and no worker is
# shut down while it still runs jobs. It never sends KILL. The contract is DESIGN.md's "Instance side".
#
#   sidekiqctl.sh quiet  [--timeout S] [--poll S] [--match ERE] [--heartbeat S]
#   sidekiqctl.sh stop   [--timeout S] [--poll S] [--match ERE] [--heartbeat S] [--supervisor SUP]
#   sidekiqctl.sh wake   [--force] [--match ERE] [--supervisor SUP] [--restart-command CMD] [--timeout S]
#   sidekiqctl.sh status [--match ERE]
#
# Titles (/proc/PID/cmdline, rewritten by Sidekiq at every heartbeat: 5 s in 5.x/6.x, 10 s in 7.x/8.x):
#   sidekiq <version> <tag> [<busy> of <concurrency> busy] <words>...
# The tag may be empty (two spaces; one is accepted too). <words>: `stopping` once quiet (TSTP or
# TERM), and what extensions append (Enterprise's `leader`). A title is untrusted data: parsed
# strictly, never evaluated, JSON-escaped, cut to 200 characters in the output. Only a title that
# parses makes a worker. One that starts `sidekiq <digit>` but does not parse is "unparseable":
# never signalled, reported (exit 1). A process still titled `ruby .../sidekiq ...` is "starting":
# reported, not counted, never signalled.
#
# Supervisor (who restarts a process) decides how it is stopped and woken, found per process: an
# ancestor supervisord (program from its SUPERVISOR_* environment), runsv (service directory), a
# sidekiqswarm parent (or that swarm's systemd service), else the systemd service of its cgroup (a
# per-user manager's is refused), else none. --supervisor systemd:UNIT | supervisord:PROGRAM |
# runit:DIR | none (--service UNIT = systemd:UNIT) may only name one of those of the Sidekiq
# processes found (or the systemd service they run in), else refused.
#
# quiet  TSTP to each process (USR1 below 5.x; USR1 kills 6+), then wait until each is idle (see
#        `idle` below) or --timeout (default 3600).
# stop   quiet; then every supervisor at once: `systemctl stop`, `supervisorctl stop`, `sv down`,
#        TERM to a swarm parent, TERM to each process with none. Refused (exit 4, nothing stopped)
#        when a supervisor also runs a Sidekiq process that is not drained, or a non-Sidekiq
#        process (left quiet), or cannot be driven. What was stopped is recorded for wake. Waits for
#        the exits, then one heartbeat more (at least 5 s): a process that came back: "respawned".
# wake   restarts the supervisors of quiet idle processes (a quiet process cannot be woken) and
#        starts what the stop with the same --match recorded; --restart-command runs only that.
#        Refused as stop is (Sidekiq left quiet) when a supervisor to restart also runs a non-Sidekiq
#        process, and, unless --force, when a quiet process still runs jobs. Waits for fresh,
#        non-quiet processes up to --timeout (default 120).
# status reports; changes nothing.
#
# Signals go only to the process a scan found: its start time (/proc/PID/stat field 22) and title
# are checked again right before each one.
# State: $SIDEKIQCTL_STATE_DIR (default /var/lib/sidekiqctl), a directory owned by the running user,
# mode 700, else refused; files written through a temporary file and a rename; records per PID
# namespace and --match; one run at a time (flock on its `lock`, waited for up to
# $SIDEKIQCTL_LOCK_WAIT s, default 60, else result "busy", exit 4). quiet goes on without a lock
# when the directory cannot be created (a read-only container); stop and wake do not.
# SIDEKIQCTL_OWN_PID_NS=1: only processes of this PID namespace.
#
# Exit codes: 0 done; 2 --timeout passed with jobs still running (nothing killed); 3 no Sidekiq
#   process found, nothing done; 4 refused or busy (nothing done; the reason says what would help);
#   1 any other failure (unparseable, respawned, error); 64 usage.
# Output: progress on stderr; stdout's last line is one JSON object of at most 24,000 characters:
#   {"action":"quiet","result":"drained","elapsed_seconds":7.9,"processes":[{"pid":4242,
#    "version":"6.4.1","tag":"","busy":0,"concurrency":3,"quiet":true}]}
# plus "unparseable":[{"pid":N,"title":"..."}], and "truncated":true when something was cut.
# result: quiet -> drained | timeout | no_sidekiq;  stop -> stopped | timeout | refused | respawned |
#         no_sidekiq;  wake -> woken | already_awake | refused | no_sidekiq;  status -> status |
#         no_sidekiq;  any -> busy | unparseable | error | usage (action "" if unknown).
# shellcheck disable=SC2015 # `A && B || C` here always means: C unless both A and B
set -eu

# Each function's own temporaries carry its own prefix, so that no call clobbers a caller's.
PROG=sidekiqctl
LOG_EVERY_CS=1000
NL='
'
USAGE='usage: sidekiqctl.sh quiet|stop|wake|status [--timeout S] [--poll S] [--match ERE] [--supervisor SUP] [--service UNIT] [--restart-command CMD] [--force] [--heartbeat S]'
Q200='????????????????????'
Q200=$Q200$Q200$Q200$Q200$Q200$Q200$Q200$Q200$Q200$Q200 # 200 `?`: a pattern for "the first 200 characters"

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
  _ci=${1%%.*}
  _cf=
  case $1 in *.*) _cf=${1#*.} ;; esac
  _cf="${_cf}00"
  _cf=${_cf%"${_cf#??}"}
  nodec "$_ci"
  CS=$((_n * 100 + 1$_cf - 100))
}
fmt_cs() { printf '%d.%d' $(($1 / 100)) $(($1 % 100 / 10)); }

# --- JSON ---------------------------------------------------------------------------------------
json_esc() { # sets J to $1 escaped for a JSON string (titles hold no control characters, see scan);
  # `|` too (as \u007c), so that an escaped field can sit in a |-separated record.
  J="" _js=$1
  while :; do
    _jp=${_js%%[\"\\|]*}
    J=$J$_jp
    [ "$_jp" != "$_js" ] || return 0
    _js=${_js#"$_jp"}
    case $_js in
      \"*) J="$J\\\"" ;;
      \\*) J="$J\\\\" ;;
      *) J="$J\\u007c" ;;
    esac
    _js=${_js#?}
  done
}
cut200() { # sets C to $1 cut to 200 characters; CUT=1 when it was cut
  C=$1
  # shellcheck disable=SC2295 # Q200 is meant as a pattern
  if [ ${#C} -gt 200 ]; then C=${C%"${C#$Q200}"} CUT=1; fi
}
PROCS_JSON="" UNP_JSON="" CUT="" PROCS="" PIDS="" PSTS="" NPROCS=0 STARTING="" UNPARSED=""
finish() { # finish RESULT EXIT_CODE
  now_cs
  printf '{"action":"%s","result":"%s","elapsed_seconds":%s,"processes":[%s]%s%s}\n' \
    "$ACTION" "$1" "$(fmt_cs $((NOW - START)))" "$PROCS_JSON" "${UNP_JSON:+,\"unparseable\":[$UNP_JSON]}" \
    "${CUT:+,\"truncated\":true}"
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
stat_of() { # sets _state, _ppid and _start (field 22) of PID; fails if it is gone. Builtins only.
  _so=""
  { while IFS= read -r _sol; do _so="$_so$_sol "; done <"/proc/$1/stat"; } 2>/dev/null || return 1
  _so=${_so##*) } # the command name in parentheses may hold anything: the fields follow the last ") "
  # shellcheck disable=SC2086 # from here on the fields are one letter and numbers
  set -- $_so
  [ $# -ge 20 ] || return 1
  _state=$1 _ppid=$2
  shift 19
  _start=$1
}
live() { # live PID [START]: it exists, is neither a zombie nor dead, and (given) started at START
  stat_of "$1" || return 1
  case $_state in Z | X | x | '') return 1 ;; esac
  [ -z "${2:-}" ] || [ "$_start" = "$2" ]
}
title_of() { # sets TI to PID's command line (printable; NULs and control characters as spaces)
  TI=$({ tr -c '\040-\176\200-\377' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) || return 1
  _tt=${TI##*[! ]}
  TI=${TI%"$_tt"}
  [ -n "$TI" ]
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
  for _rw in "${2:-}" "${3:-}" "${4:-}"; do [ "${_rw##*/}" = "$_rn" ] && return 0; done
  return 1
}
# A sidekiqswarm parent: its comm is `ruby` or `bundle` when started as `bundle exec sidekiqswarm`
# (Ruby's $0= leaves comm alone), so its command line decides: `sidekiqswarm, managing N processes`
# (Enterprise's title), or sidekiqswarm run by ruby/bundle before that title is set.
is_swarm() {
  title_of "$1" || return 1
  case $TI in 'sidekiqswarm, '*) return 0 ;; esac
  runs sidekiqswarm "$TI"
}
digits() { case $1 in '' | *[!0-9]* | ??????????*) return 1 ;; esac; }
# parse TITLE: 0 and P_VER P_BUSY P_CONC P_Q P_TAG (JSON-escaped) when it is a Sidekiq title; 1 when
# it does not start like one; 2 when it starts `sidekiq <digit>` but does not parse (or is too long
# for any real title).
parse() {
  case $1 in 'sidekiq '[0-9]*) ;; *) return 1 ;; esac
  [ ${#1} -le 1000 ] || return 2
  _pr=${1#sidekiq }
  P_VER=${_pr%%' '*}
  [ "$P_VER" != "$_pr" ] || return 2
  case $P_VER in *[!0-9A-Za-z.]*) return 2 ;; esac
  _pr=${_pr#"$P_VER "}
  _ph=${_pr%%'['[0-9]*' of '[0-9]*' busy]'*} # the tag (and its space): up to the first "[N of M busy]"
  [ "$_ph" != "$_pr" ] || return 2
  _pr=${_pr#"${_ph}["}
  P_BUSY=${_pr%%' of '*}
  _pr=${_pr#*' of '}
  P_CONC=${_pr%%' busy]'*}
  _px=${_pr#*' busy]'}
  digits "$P_BUSY" && digits "$P_CONC" || return 2
  case $_px in '' | ' '*) ;; *) return 2 ;; esac
  case $_ph in '') ;; *' ') _ph=${_ph% } ;; *) return 2 ;; esac
  P_Q=false
  case "$_px " in *' stopping '*) P_Q=true ;; esac
  cut200 "$_ph"
  json_esc "$C"
  P_TAG=$J
  nodec "$P_BUSY"
  P_BUSY=$_n
  nodec "$P_CONC"
  P_CONC=$_n
}
# scan: sets PROCS (lines "pid|start|version|busy|concurrency|quiet|tag"), PIDS, NPROCS, STARTING
# and UNPARSED (pids), PSTS (" pid:start" of PIDS), UNP_JSON. A failure to list or read /proc is an error, never "no Sidekiq".
scan() {
  PROCS="" PIDS="" PSTS="" NPROCS=0 STARTING="" UNPARSED="" UNP_JSON=""
  _sco=$(grep -l -e sidekiq /proc/[0-9]*/cmdline 2>&1) || :
  _scc=""
  while IFS= read -r _scl; do
    case $_scl in
      '') ;;
      /proc/*/cmdline) _scc="$_scc $_scl" ;;
      *) # grep's complaint: fine only about a process that has gone meanwhile
        _sce=${_scl#*/proc/}
        _sce=${_sce%%/*}
        if ! digits "$_sce" || live "$_sce"; then fail "cannot list processes in /proc: $_scl"; fi
        ;;
    esac
  done <<EOF2
$_sco
EOF2
  for _scf in $_scc; do
    _scp=${_scf#/proc/}
    _scp=${_scp%/cmdline}
    digits "$_scp" && [ "$_scp" != "$$" ] || continue
    # Other PID namespaces' processes (containers) are left out when asked; an unreadable link is kept.
    if [ -n "$OWN_NS" ]; then
      _scn=$(readlink "/proc/$_scp/ns/pid" 2>/dev/null) || _scn=""
      [ -z "$_scn" ] || [ "$_scn" = "$OWN_NS" ] || continue
    fi
    title_of "$_scp" && live "$_scp" || continue
    _scr=0
    parse "$TI" || _scr=$?
    case $_scr in
      0) matches "$TI" || continue ;;
      2)
        if matches "$TI"; then
          UNPARSED="$UNPARSED $_scp"
          cut200 "$TI"
          json_esc "$C"
          # at most about 6,000 characters of them, so that the JSON line stays under 24,000
          if [ $((${#UNP_JSON} + ${#J})) -lt 6000 ]; then
            UNP_JSON="$UNP_JSON${UNP_JSON:+,}{\"pid\":$_scp,\"title\":\"$J\"}"
          else CUT=1; fi
        fi
        continue
        ;;
      *)
        if runs sidekiq "$TI" && matches "$TI"; then STARTING="$STARTING $_scp"; fi
        continue
        ;;
    esac
    PROCS="$PROCS$_scp|$_start|$P_VER|$P_BUSY|$P_CONC|$P_Q|$P_TAG$NL"
    PIDS="$PIDS $_scp"
    PSTS="$PSTS $_scp:$_start"
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
procs_json() { # PROCS_JSON from PROCS, at most about 16,000 characters
  PROCS_JSON=""
  while IFS='|' read -r _pjp _pjs _pjv _pjb _pjc _pjq _pjt; do
    [ -n "$_pjp" ] || continue
    _pje="{\"pid\":$_pjp,\"version\":\"$_pjv\",\"tag\":\"$_pjt\",\"busy\":$_pjb,\"concurrency\":$_pjc,\"quiet\":$_pjq}"
    if [ $((${#PROCS_JSON} + ${#_pje})) -lt 16000 ]; then
      PROCS_JSON="$PROCS_JSON${PROCS_JSON:+,}$_pje"
    else CUT=1; fi
  done <<EOF2
$PROCS
EOF2
}
VIEW_LAST=""
VIEW_AT=-100000
show_view() { # one stderr line per poll when the view changed, or every 10 s
  _sv=""
  while IFS='|' read -r _svp _svs _svv _svb _svc _svq _svt; do
    [ -n "$_svp" ] || continue
    _svx=""
    [ "$_svq" = false ] || _svx=", quiet"
    _sv="$_sv${_sv:+; }pid $_svp (sidekiq $_svv${_svt:+ $_svt}): $_svb of $_svc busy$_svx"
  done <<EOF2
$PROCS
EOF2
  for _svp in $STARTING; do _sv="$_sv${_sv:+; }pid $_svp: starting (not counted)"; done
  for _svp in $UNPARSED; do _sv="$_sv${_sv:+; }pid $_svp: unparseable title"; done
  [ -n "$_sv" ] || _sv="no sidekiq process"
  now_cs
  if [ "$_sv" != "$VIEW_LAST" ] || [ $((NOW - VIEW_AT)) -ge $LOG_EVERY_CS ]; then
    log "[$(fmt_cs $((NOW - START)))s] $_sv"
    VIEW_LAST=$_sv
    VIEW_AT=$NOW
  fi
}
still_live() { # still_live "PID:START..." : sets LIVE to the pids of those that still run
  LIVE=""
  for _slx in $1; do if live "${_slx%:*}" "${_slx#*:}"; then LIVE="$LIVE ${_slx%:*}"; fi; done
}
pid_in() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }
sleep_poll() { # sleep one poll, never past the deadline
  now_cs
  _spl=$((DEADLINE - NOW))
  if [ "$_spl" -le 0 ]; then return 0; fi
  if [ "$_spl" -lt "$POLL_CS" ]; then sleep "$(fmt_cs "$_spl")"; else sleep "$POLL"; fi
}
# sig SIGNAL PID START: only to the process the scan found: the same start time, and a Sidekiq
# title that --match selects, read again right now (a PID can be reused meanwhile)
sig() {
  if live "$2" "$3" && title_of "$2" && parse "$TI" && matches "$TI"; then
    kill -s "$1" "$2" 2>/dev/null && return 0
  fi
  log "pid $2: $1 not sent: it is gone, or no longer the Sidekiq process found"
  return 1
}

# --- supervisors --------------------------------------------------------------------------------
# A supervisor is a key "KIND ID [URL]": systemd UNIT | supervisord PROGRAM URL|- | runit DIR |
# swarm PID START | none -. IDs come from /proc; checked against safe characters, never evaluated.
safe() { case $1 in '' | *[!A-Za-z0-9@:/._-]*) return 1 ;; esac; }
# svc_of PID: sets SVC to the systemd service whose cgroup PID is in (innermost `*.service`), or '';
# SVC_UID to N when that service belongs to the per-user manager user@N.service (else ''); SVC_CG
# to the directories under /sys/fs/cgroup that may hold that service's cgroup
svc_of() {
  SVC="" SVC_UID="" SVC_CG=""
  while IFS= read -r _vl; do
    _vh=${_vl#*:}
    _vl=${_vh#*:}
    _vh=${_vh%%:*}
    while [ -n "$_vl" ]; do
      case ${_vl##*/} in
        *.service)
          SVC=${_vl##*/}
          safe "$SVC" && safe "$_vl" || { SVC="" && return 0; }
          SVC_CG="/sys/fs/cgroup$_vl /sys/fs/cgroup/unified$_vl /sys/fs/cgroup/${_vh#name=}$_vl"
          case $_vl in */user@*.service/*)
            SVC_UID=${_vl#*/user@}
            SVC_UID=${SVC_UID%%.service/*}
            digits "$SVC_UID" || SVC_UID="?"
            ;;
          esac
          return 0
          ;;
        *.scope | *.slice) break ;;
      esac
      case $_vl in */*) _vl=${_vl%/*} ;; *) _vl="" ;; esac
    done
  done 2>/dev/null <"/proc/$1/cgroup" || :
}
env_of() { # env_of PID NAME: sets _ev to NAME's value in PID's environment, or ''
  _ev=$({ tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | sed -n "s/^$2=//p" | head -n 1) || _ev=""
}
# discover PID: sets SUP, the key of who restarts PID (see above), ignoring --supervisor; SUPTOP to
# the process supervisord or runsv started (PID or an ancestor of it)
discover() {
  _da=$1 _dsw="" _dk=0 SUPTOP=""
  while [ "$_dk" -lt 40 ] && stat_of "$_da" && [ "$_ppid" -gt 1 ] 2>/dev/null; do
    _dk=$((_dk + 1))
    SUPTOP=$_da
    _da=$_ppid
    _dcm=""
    { read -r _dcm <"/proc/$_da/comm"; } 2>/dev/null || :
    case $_dcm in
      supervisord*)
        env_of "$1" SUPERVISOR_GROUP_NAME
        _dg=$_ev
        env_of "$1" SUPERVISOR_PROCESS_NAME
        _dp=$_ev
        env_of "$1" SUPERVISOR_SERVER_URL
        case $_ev in unix:///* | http://127.0.0.1:* | http://localhost:*) ;; *) _ev=- ;; esac
        SUP="supervisord $_dg:$_dp $_ev"
        safe "$_dg$_dp$_ev" || SUP="supervisord ? -"
        return 0
        ;;
      runsv)
        _dd=$(cd "/proc/$_da/cwd" 2>/dev/null && pwd -P) || _dd=""
        safe "$_dd" || _dd="?"
        SUP="runit $_dd"
        return 0
        ;;
      sidekiqswarm*) [ -n "$_dsw" ] || _dsw=$_da ;;
      ruby* | bundle* | jruby*) [ -n "$_dsw" ] || ! is_swarm "$_da" || _dsw=$_da ;;
    esac
  done
  SUPTOP=""
  svc_of "${_dsw:-$1}"
  if [ -n "$SVC_UID" ]; then
    SUP="systemd-user $SVC_UID:${SVC:-?}"
  elif [ -n "$SVC" ]; then
    SUP="systemd $SVC"
  elif [ -n "$_dsw" ] && stat_of "$_dsw"; then
    SUP="swarm $_dsw $_start"
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
      _ssu=$_u
      norm_unit "$4"
      [ "$_ssu" = "$_u" ]
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
# sup_argv KEY VERB (stop | start | restart): sets SA to the supervisor's command (words of safe
# characters); returns 1 when the KEY has none
sup_argv() {
  _sav=$2
  set -f
  # shellcheck disable=SC2086
  set -- $1
  set +f
  case $1 in
    systemd) SA="systemctl $_sav $2" ;;
    supervisord)
      SA="supervisorctl $_sav $2"
      [ "$3" = - ] || SA="supervisorctl -s $3 $_sav $2"
      ;;
    runit) # sv waits 7 s by default, less than Sidekiq's -t: wait up to the deadline instead. A
      # stop waits for the exits itself, so `sv down` need not (one wait, not one per service)
      now_cs
      case $_sav in
        stop) SA="sv down $2" ;;
        start) SA="sv -w $(((DEADLINE - NOW) / 100 + 1)) up $2" ;;
        *) SA="sv -w $(((DEADLINE - NOW) / 100 + 1)) $_sav $2" ;;
      esac
      ;;
    *) return 1 ;;
  esac
}
# sup_all VERB KEYS: runs the supervisor command of every key at once (KEYS one a line), each in
# the background with its output in a temporary file; waits until all end or the deadline, when
# they are left running (never killed) and this fails. Fails naming those that failed.
sup_all() {
  _sad=$(mktemp -d) || fail "cannot make a temporary directory"
  _sai=0 _sac=""
  while IFS= read -r _sak; do
    [ -n "$_sak" ] && sup_argv "$_sak" "$1" || continue
    _sai=$((_sai + 1)) _sac="$_sac$SA$NL"
    log "$SA"
    # the lock's descriptor stays here: a command that outlives this run must not hold the lock
    (
      _rc=0
      set -f
      # shellcheck disable=SC2086 # SA is words of safe characters (see sup_argv)
      $SA </dev/null >"$_sad/$_sai.out" 2>&1 || _rc=$?
      echo "$_rc" >"$_sad/$_sai.rc"
    ) 9>&- &
  done <<EOF2
$2
EOF2
  _saj=0
  while [ "$_saj" -lt "$_sai" ]; do # builtins only: this loop runs while the commands work
    if [ -f "$_sad/$((_saj + 1)).rc" ]; then
      _saj=$((_saj + 1))
      continue
    fi
    now_cs
    if [ "$NOW" -ge "$DEADLINE" ]; then
      procs_json
      fail "supervisor commands still running at the --timeout (${TIMEOUT}s), nothing was killed (output in $_sad)"
    fi
    sleep_poll
  done
  _saj=0 _saf=""
  while IFS= read -r _sak; do
    [ -n "$_sak" ] || continue
    _saj=$((_saj + 1))
    [ ! -s "$_sad/$_saj.out" ] || cat "$_sad/$_saj.out" >&2 || :
    read -r _sar <"$_sad/$_saj.rc" || _sar='?'
    [ "$_sar" = 0 ] || _saf="$_saf, $_sak (exit $_sar)"
  done <<EOF2
$_sac
EOF2
  rm -rf "$_sad"
  [ -z "$_saf" ] || { procs_json && fail "failed: ${_saf#, }"; }
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
  log "refused: $1. Nothing was stopped or restarted"
  procs_json
  finish refused 4
}
HELP_FLAG='--supervisor systemd:UNIT|supervisord:PROGRAM|runit:DIR|none'
# group_by_sup PIDS: sets SUPS (distinct keys, one a line), SUPPID (lines "pid key": one process of
# each) and UNSUP (" pid:start" of those of PIDS with no supervisor; PSTS has their start times)
group_by_sup() {
  SUPS="" SUPPID="" UNSUP=""
  for _gp in $1; do
    case "$NL$SKMAP" in
      *"$NL$_gp "*)
        SUP="$NL$SKMAP"
        SUP=${SUP#*"$NL$_gp "}
        SUP=${SUP%%"$NL"*}
        [ -z "$SUP_GIVEN" ] || SUP=$SUP_GIVEN
        ;;
      *) sup_of "$_gp" ;;
    esac
    if [ "$SUP" = "none -" ]; then
      _gs=${PSTS#* "$_gp":}
      UNSUP="$UNSUP $_gp:${_gs%% *}"
    fi
    case "$NL$SUPS" in *"$NL$SUP$NL"*) ;; *) SUPS="$SUPS$SUP$NL" SUPPID="$SUPPID$_gp $SUP$NL" ;; esac
  done
}
# sup_map: SKALL (every Sidekiq process, whatever --match says: titled, starting, unparseable),
# SKMAP (lines "pid key": who supervises each; the first line of a pid is the discovered one) and
# SKANC (those processes and their ancestors), SKTOP (" pid:top": SUPTOP of each), SKPSTS (PSTS of
# them) and SKOTH (the starting and unparseable ones), from one scan and one discovery each
sup_map() {
  _smm=$MATCH
  MATCH=""
  _smp=$PROCS _smi=$PIDS _sms=$PSTS _smn=$NPROCS _smt=$STARTING _smu=$UNPARSED _smj=$UNP_JSON
  scan
  SKALL="$PIDS $STARTING $UNPARSED" SKPSTS=$PSTS SKOTH=" $STARTING $UNPARSED "
  PROCS=$_smp PIDS=$_smi PSTS=$_sms NPROCS=$_smn STARTING=$_smt UNPARSED=$_smu UNP_JSON=$_smj
  MATCH=$_smm
  SKMAP=""
  SKTOP=" "
  for _smx in $SKALL; do
    discover "$_smx"
    SKMAP="$SKMAP$_smx $SUP$NL"
    SKTOP="$SKTOP$_smx:$SUPTOP "
    svc_of "$_smx"
    [ -z "$SVC" ] || SKMAP="$SKMAP$_smx systemd $SVC$NL"
  done
  SKANC=" "
  for _smx in $SKALL; do
    while [ -n "$_smx" ] && ! pid_in "$_smx" "$SKANC" && stat_of "$_smx"; do
      SKANC="$SKANC$_smx "
      _smx=$_ppid
    done
  done
}
# others KEY OKPIDS: sets OTHERS to the Sidekiq processes of SKMAP that KEY runs, except OKPIDS
others() {
  OTHERS=""
  case $1 in 'none '*) return 0 ;; esac
  while read -r _op _ok; do
    case $_ok in "${1%% *} "*) ;; *) continue ;; esac # another kind of supervisor
    [ -n "$_op" ] && ! pid_in "$_op" "$2" && ! pid_in "$_op" "$OTHERS" || continue
    same_sup "$1" "$_ok" || continue
    OTHERS="$OTHERS $_op"
  done <<EOF2
$SKMAP
EOF2
}
# given_ok: --supervisor names none, or a supervisor of a Sidekiq process found (SKMAP) or recorded
given_ok() {
  case $SUP_GIVEN in '' | 'none -') return 0 ;; esac
  while read -r _gop _gok; do
    [ -n "$_gop" ] || continue
    same_sup "$SUP_GIVEN" "$_gok" && return 0
  done <<EOF2
$SKMAP${1:-}
EOF2
  sup_name "$SUP_GIVEN"
  refuse "--supervisor names $SN, which runs none of the Sidekiq processes here; only their supervisors can be chosen"
}
# only_sidekiq KEY PID CONSEQUENCE: refused, naming them ("pid (comm)"), when KEY's unit or program
# runs processes besides Sidekiq and their parents (a wrapper shell, runsv), PID being one of its
# Sidekiqs: stopping or restarting it would take those down too (puma beside Sidekiq). A systemd unit
# is its cgroup (and those below); a supervisord or runit program is the tree of the process it started.
only_sidekiq() {
  FOREIGN="" _fm=""
  case $1 in
    'systemd '*)
      svc_of "$2"
      norm_unit "${1#systemd }"
      [ "$SVC" = "$_u" ] || return 0
      for _fd in $SVC_CG; do
        [ -r "$_fd/cgroup.procs" ] || continue
        _fm=$(find "$_fd" -name cgroup.procs -exec cat {} + 2>/dev/null) || _fm=""
        break
      done
      ;;
    'supervisord '* | 'runit '*)
      _ft=${SKTOP#* "$2":}
      _ft=${_ft%% *}
      _fm=$_ft
      while [ -n "$_ft" ]; do # the tree under SUPTOP, one generation at a time (builtins only)
        _fn=""
        for _fp in $_ft; do
          for _fc in /proc/"$_fp"/task/*/children; do
            _fx=""
            { read -r _fx <"$_fc" || :; } 2>/dev/null
            _fn="$_fn $_fx"
          done
        done
        case $_fn in *[0-9]*) _ft=$_fn ;; *) _ft="" ;; esac
        _fm="$_fm $_ft"
      done
      ;;
  esac
  for _fp in $_fm; do
    digits "$_fp" && ! pid_in "$_fp" "$SKANC" && live "$_fp" || continue
    _fc='?'
    { read -r _fc <"/proc/$_fp/comm"; } 2>/dev/null || :
    safe "$_fc" || _fc='?'
    FOREIGN="$FOREIGN $_fp ($_fc)"
  done
  sup_name "$1"
  [ -z "$FOREIGN" ] || refuse "$SN also runs pid(s)$FOREIGN, which are not Sidekiq; $3"
}

# --- bounded commands ---------------------------------------------------------------------------
# run_bounded DESC CMD...: runs CMD in the background and waits for it until DEADLINE. Its output
# goes to a temporary file, copied to stderr when it ends, so that a CMD outliving this script keeps
# no pipe of ours open (nor the lock). At the deadline CMD is left running (never killed) and this fails.
run_bounded() {
  _rbd=$1
  shift
  _rbo=$(mktemp 2>/dev/null) || _rbo=/dev/null
  "$@" </dev/null >"$_rbo" 2>&1 9>&- &
  _rbp=$!
  while live "$_rbp"; do
    now_cs
    if [ "$NOW" -ge "$DEADLINE" ]; then
      [ "$_rbo" = /dev/null ] || log "its output so far is in $_rbo"
      procs_json
      fail "$_rbd has not finished by the --timeout (${TIMEOUT}s); it keeps running (pid $_rbp), nothing was killed"
    fi
    sleep_poll
  done
  _rbc=0
  wait "$_rbp" || _rbc=$?
  if [ "$_rbo" != /dev/null ]; then
    cat "$_rbo" >&2 || :
    rm -f "$_rbo"
  fi
  return "$_rbc"
}

# --- drain (quiet, and the first half of stop) --------------------------------------------------
# Per-process state, one line each: "pid start quiet_seen_at seen_at born_at key major class tid..."
# (numbers and words this script made; never code). born_at: the look before the title last
# changed; class: how its version names job threads; tid...: every job thread seen in it.
STATE=""
beat_of() { # beat_of MAJOR: sets BEAT (centiseconds)
  BEAT=$HEARTBEAT_CS
  if [ -z "$BEAT" ]; then
    BEAT=1000
    [ "$1" -ge 7 ] 2>/dev/null || [ -z "$1" ] || BEAT=500
  fi
}
# jt_class VERSION: sets JC to how that version names its job threads (safe_thread), "-" if unnamed:
# 6.x `processor`; 7.0 `<capsule>/processor`; from 7.1.0 `sidekiq.<capsule>/processor`, beside
# `sidekiq.heartbeat` and `sidekiq.scheduler`. Linux keeps 15 bytes of a thread name.
jt_class() {
  case $1 in
    6.*) JC=p6 ;;
    7.0.* | 7.0) JC=p70 ;;
    7.* | [89].* | [1-9][0-9]*) JC=p71 ;;
    *) JC=- ;;
  esac
}
job_tids() { # job_tids PID CLASS: sets JT to " tid..." of PID's job threads now
  JT=""
  [ "$2" != - ] || return 0
  for _jc in /proc/"$1"/task/*/comm; do
    { read -r _jn <"$_jc"; } 2>/dev/null || continue
    case $2:$_jn in
      p71:sidekiq.heartbe* | p71:sidekiq.schedul*) continue ;;
      p6:processor | p70:*/process* | p71:sidekiq.*) ;;
      *) continue ;;
    esac
    _jc=${_jc%/comm}
    JT="$JT ${_jc##*/}"
  done
}
# idle QUIET BUSY QUIET_SEEN_AT BORN_AT NOW BEAT PID "TIDS" CONCURRENCY: 0 when the process is idle;
# IDLE_BY says why. From Sidekiq's source (6.4.1, 7.2.0, 8.1.7; cited in the tests): Launcher#quiet
# sets the launcher's @done, which puts `stopping` in the next title, before Manager#quiet reaches
# each processor; a processor's fetch pushes a job back only if its own @done was set when the fetch
# returned, and a job it keeps counts as busy only at `stats` (WORK_STATE.set), later. So the first
# `stopping` title may say 0 busy while a job starts. Evidence, not timing, closes that gap:
# - a processor's thread ends only after its last job (`process_one until @done`): once a thread
#   has been seen for every processor (as many as the concurrency) and all are gone, nothing runs,
#   whatever a title written before says;
# - otherwise the title's busy count stands (a job may have renamed its thread before it was seen;
#   M:N threads have none of their own), and 0 busy is believed when every job thread seen is gone,
#   or when the title changed after the first `stopping` one (a later heartbeat, which counted that job);
# - with no job thread known (5.x, JRuby, M:N), two heartbeats after `stopping`.
idle() {
  [ "$1" = true ] || return 1
  _in=0 _ig=0
  for _it in $8; do
    _in=$((_in + 1))
    [ -e "/proc/$7/task/$_it" ] || _ig=$((_ig + 1))
  done
  IDLE_BY="all $_in job threads gone"
  [ "$_in" -eq 0 ] || [ "$_in" -lt "$9" ] || [ "$_ig" -lt "$_in" ] || return 0
  [ "$2" = 0 ] || return 1
  IDLE_BY="title changed after stopping"
  [ "$4" -lt "$3" ] || return 0
  IDLE_BY="job threads gone"
  [ "$_in" -eq 0 ] || [ "$_ig" -lt "$_in" ] || return 0
  IDLE_BY="two heartbeats after stopping, no job thread known"
  [ "$_in" -eq 0 ] && [ "$5" -ge $(($3 + 2 * $6)) ]
}
# Returns 0 when every selected process is idle, 2 at the deadline, 3 when no process was there at
# the first look. Only processes whose title parses count (a starting one is reported, not waited for).
drain() {
  FIRST=1
  MAXBEAT=0
  while :; do
    scan
    now_cs
    if [ "$FIRST" = 1 ] && [ "$NPROCS" -eq 0 ] && [ -z "$UNPARSED" ]; then return 3; fi
    FIRST=0
    _dok=1 _dnew="$NL" _dwhy="" _drep=""
    while IFS='|' read -r _pid _st _ver _busy _conc _q _tag; do
      [ -n "$_pid" ] || continue
      case $STATE in
        *"$NL$_pid $_st "*)
          _S=${STATE#*"$NL$_pid $_st "}
          _S=${_S%%"$NL"*}
          ;;
        *)
          _maj=${_ver%%.*} # the major version if it is a plain number, else empty
          digits "$_maj" || _maj=""
          jt_class "$_ver"
          _S="-1 -1 -1 - ${_maj:--} $JC"
          if [ "$_q" = false ]; then
            _name=TSTP
            if [ -n "$_maj" ] && [ "$_maj" -lt 5 ]; then _name=USR1; fi
            log "pid $_pid: sending $_name (sidekiq $_ver)"
            sig "$_name" "$_pid" "$_st" || :
          fi
          ;;
      esac
      set -f
      # shellcheck disable=SC2086 # the record is space-separated words this script wrote
      set -- $_S
      set +f
      _qat=$1 _seen=$2 _born=$3 _key=$4 _maj=$5 _cls=$6
      shift 6
      _tids=" $* "
      [ "$_maj" != - ] || _maj=""
      if [ "$_key" != "$_busy:$_conc:$_q" ]; then _key="$_busy:$_conc:$_q" _born=$_seen; fi
      _seen=$NOW
      if [ "$_q" = true ] && [ "$_qat" = -1 ]; then _qat=$NOW; fi
      job_tids "$_pid" "$_cls"
      for _t in $JT; do pid_in "$_t" "$_tids" || _tids="$_tids$_t "; done
      beat_of "$_maj"
      [ "$BEAT" -le "$MAXBEAT" ] || MAXBEAT=$BEAT
      if idle "$_q" "$_busy" "$_qat" "$_born" "$NOW" "$BEAT" "$_pid" "$_tids" "$_conc"; then
        _dwhy="$_dwhy; pid $_pid: $IDLE_BY"
        _busy=0 # a stale title's count, when every processor's thread is gone
      else _dok=0; fi
      _drep="$_drep$_pid|$_st|$_ver|$_busy|$_conc|$_q|$_tag$NL"
      _dnew="$_dnew$_pid $_st $_qat $_seen $_born $_key ${_maj:--} $_cls$_tids$NL"
    done <<EOF2
$PROCS
EOF2
    STATE=$_dnew
    PROCS=$_drep
    show_view
    if [ "$_dok" = 1 ]; then
      log "idle (${_dwhy#; })"
      return 0
    fi
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

# --- instance state -----------------------------------------------------------------------------
# state_dir: 0 when STATE_DIR is usable (made, mode 700, when missing); 1 (WHY) when it must not be
# trusted (wrong owner or mode, a symlink): root acting on what others can write is how wake
# would start any unit; 2 (WHY) when it cannot be made (read-only)
state_dir() {
  if [ ! -e "$STATE_DIR" ] && [ ! -L "$STATE_DIR" ]; then
    (umask 077 && mkdir -p -- "$STATE_DIR") 2>/dev/null || {
      WHY="cannot create $STATE_DIR (read-only?)"
      return 2
    }
  fi
  set -f
  # shellcheck disable=SC2046 # ls -ldn: mode, links, uid first
  set -- $(ls -ldn -- "$STATE_DIR" 2>/dev/null)
  set +f
  case ${1:-}:${3:-} in
    "drwx------:$MYUID" | "drwx------.:$MYUID") return 0 ;; # `.`: an SELinux context, no ACL
  esac
  WHY="$STATE_DIR must be a directory owned by uid $MYUID with mode 700, not a symlink (it is ${1:-missing}, uid ${3:-?}); not trusted, not touched"
  return 1
}
# lock: one run at a time per host: flock on STATE_DIR/lock (released by the kernel when this run
# ends), waited for up to LOCK_WAIT seconds, else result "busy"
lock() {
  command -v flock >/dev/null 2>&1 || {
    log "warning: no flock here; runs are not serialized"
    return 0
  }
  exec 9>>"$STATE_DIR/lock"
  flock -n 9 && return 0
  log "another sidekiqctl.sh run holds $STATE_DIR/lock; waiting up to ${LOCK_WAIT}s"
  flock -w "$LOCK_WAIT" 9 && return 0
  log "busy: another sidekiqctl.sh run on this host still holds $STATE_DIR/lock after ${LOCK_WAIT}s; nothing was done. Try again when it ends"
  finish busy 4
}
# enter NEED: validates the state directory and takes the lock; NEED=1: refuse without them
enter() {
  _erc=0
  state_dir || _erc=$?
  case $_erc in
    0) lock ;;
    1) refuse "$WHY" ;;
    *)
      [ "$1" = 0 ] || refuse "$WHY, and wake needs what stop records; set SIDEKIQCTL_STATE_DIR to a writable directory"
      log "warning: $WHY; going on without the lock"
      ;;
  esac
}
# The record of what stop stopped, for wake: one file per PID namespace and --match, so that wake
# starts exactly what the matching stop stopped
rec_file() {
  _rfn=$(readlink /proc/self/ns/pid 2>/dev/null) || _rfn=""
  _rfn=${_rfn#*[}
  _rfn=${_rfn%]}
  case $_rfn in '' | *[!0-9]*) _rfn=0 ;; esac
  _rfm=$(printf '%s' "$MATCH" | cksum)
  REC="$STATE_DIR/stopped.$_rfn.${_rfm%% *}"
}
record() { # record KEYS: adds KEYS (one a line) to REC, through a temporary file and a rename
  _rct=$(mktemp "$STATE_DIR/.stopped.XXXXXX") &&
    { [ -L "$REC" ] || cat "$REC" 2>/dev/null || :; printf '%s' "$1"; } | sort -u >"$_rct" && mv -f "$_rct" "$REC" ||
    refuse "cannot record in $STATE_DIR what stop would stop, so wake could not start it"
}

do_quiet() {
  enter 0
  drain_or_finish
  report_unparsed
  finish drained 0
}

do_stop() {
  enter 1
  rec_file
  if [ -n "$SUP_GIVEN" ]; then
    scan
    sup_map
    given_ok
  fi
  drain_or_finish
  _pids=$PIDS _psts=$PSTS
  sup_map
  group_by_sup "$_pids"
  # Refuse before touching anything.
  while read -r _sp _k; do
    [ -n "$_k" ] || continue
    sup_name "$_k"
    can_control "$_k" || refuse "$WHY; name it with $HELP_FLAG"
    others "$_k" "$_pids"
    [ -z "$OTHERS" ] || refuse "$SN also runs pid(s)$OTHERS, not drained (awake, busy, starting, unparseable or not selected by --match); stopping it would shut them down"
    only_sidekiq "$_k" "$_sp" "stopping it would stop them too. Sidekiq there is quiet, not stopped"
  done <<EOF2
$SUPPID
EOF2
  _befs=$SKPSTS _befo=$SKOTH
  record "$SUPS"
  _sw=""
  while IFS= read -r _k; do
    case $_k in 'swarm '*) _sw="$_sw ${_k#swarm }" ;; esac
  done <<EOF2
$SUPS
EOF2
  # shellcheck disable=SC2086 # pid and start time
  [ -z "$_sw" ] || set -- $_sw
  while [ $# -ge 2 ]; do
    log "TERM to the sidekiqswarm parent pid $1"
    if live "$1" "$2" && is_swarm "$1"; then kill -s TERM "$1" 2>/dev/null || :; else log "pid $1: gone, or no longer that sidekiqswarm: not signalled"; fi
    shift 2
  done
  sup_all stop "$SUPS"
  # A supervisor's stop may return before the exit (`sv down` does): the wait below covers it, and
  # a second TERM from here would only race the supervisor. TERM goes to unsupervised ones alone.
  for _x in $UNSUP; do
    log "pid ${_x%:*}: sending TERM"
    sig TERM "${_x%:*}" "${_x#*:}" || :
  done
  # Idle processes exit within seconds of TERM; allow at least a minute whatever is left.
  now_cs
  [ "$DEADLINE" -ge $((NOW + 6000)) ] || DEADLINE=$((NOW + 6000))
  while :; do
    still_live "$_psts"
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
  _watch=$((MAXBEAT + 100))
  [ "$_watch" -ge 500 ] || _watch=500
  _until=$((NOW + _watch))
  while :; do
    scan
    _back=""
    for _x in $PSTS; do pid_in "$_x" "$_befs" || _back="$_back ${_x%:*}"; done
    for _x in $STARTING $UNPARSED; do pid_in "$_x" "$_befo" || _back="$_back $_x"; done
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
  done <<EOF2
$WOKE
EOF2
  return 1
}
# wait_fresh: until none of OLD_QUIET runs and each key of WOKE ("cmd": the restart command, any
# process not in OLD_ALL) runs a process that is up and not quiet; its starting ones are waited for.
wait_fresh() {
  while :; do
    scan
    show_view
    _need=$WOKE _pend="" _keep=""
    while IFS='|' read -r _pid _st _ver _busy _conc _q _tag; do
      [ -n "$_pid" ] && [ "$_q" = false ] && ! pid_in "$_pid:$_st" "$OLD_QUIET" || continue
      if [ "$WOKE" = "cmd$NL" ]; then
        pid_in "$_pid:$_st" "$OLD_ALL" && continue
        SUP=cmd
      else discover "$_pid"; fi
      in_woke "$SUP" || continue
      _keep="$_keep$_pid|$_st|$_ver|$_busy|$_conc|$_q|$_tag$NL"
      _need=$(printf '%s' "$_need" | grep -v -x -F -e "$WK") || _need=""
    done <<EOF2
$PROCS
EOF2
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
  enter 0
  rec_file
  wait_not_starting
  show_view
  OLD_ALL=$PSTS
  OLD_QUIET="" _oqp=""
  _busyq=""
  while IFS='|' read -r _pid _st _ver _busy _conc _q _tag; do
    [ -n "$_pid" ] || continue
    if [ "$_q" = true ]; then
      OLD_QUIET="$OLD_QUIET $_pid:$_st" _oqp="$_oqp $_pid"
      [ "$_busy" = 0 ] || _busyq="$_busyq $_pid"
    fi
  done <<EOF2
$PROCS
EOF2
  _rec=""
  if [ -f "$REC" ] && [ ! -L "$REC" ]; then # records are never read through a symlink
    while IFS= read -r _k; do
      case $_k in systemd\ * | supervisord\ * | runit\ * | swarm\ * | 'none -') ;; *) continue ;; esac
      case $_k in *[!A-Za-z0-9@:/._\ -]*) continue ;; esac
      _rec="$_rec$_k$NL"
    done <"$REC"
  fi
  sup_map
  _rk=""
  while IFS= read -r _k; do [ -z "$_k" ] || _rk="${_rk}0 $_k$NL"; done <<EOF2
$_rec
EOF2
  given_ok "$_rk"
  if [ -n "$_busyq" ]; then
    if [ "$FORCE" = 1 ]; then
      log "--force: restarting although quiet pid(s)$_busyq still run jobs (Sidekiq pushes them back to Redis)"
    else
      procs_json
      log "refused: quiet pid(s)$_busyq still run jobs; wait for them, or use --force"
      finish refused 4
    fi
  fi
  if [ -z "$OLD_QUIET" ] && [ -z "$_rec" ]; then
    procs_json
    if [ "$NPROCS" -eq 0 ] && [ -z "$RESTART_CMD" ]; then
      log "no sidekiq process found, and nothing recorded as stopped with this --match (give --restart-command)"
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
    group_by_sup "$_oqp"
    _restart=$SUPS _start_k="" _swarm_k=""
    WOKE=""
    while read -r _sp _k; do
      [ -n "$_k" ] || continue
      sup_name "$_k"
      case $_k in
        'none '*)
          procs_json
          fail "quiet pid(s)$_oqp have no supervisor to restart them; give --restart-command or $HELP_FLAG"
          ;;
        'swarm '*) _swarm_k="$_swarm_k$_k$NL" ;;
      esac
      can_control "$_k" || refuse "$WHY; name it with $HELP_FLAG"
      others "$_k" "$_oqp"
      [ -z "$OTHERS" ] || refuse "$SN also runs pid(s)$OTHERS, which are awake, busy, starting, unparseable or not selected by --match; restarting it would shut them down"
      only_sidekiq "$_k" "$_sp" "restarting it would restart them too. Sidekiq there stays quiet; give --restart-command to restart Sidekiq alone"
      WOKE="$WOKE$_k$NL"
    done <<EOF2
$SUPPID
EOF2
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
      _start_k="$_start_k$_k$NL"
      WOKE="$WOKE$_k$NL"
    done <<EOF2
$_rec
EOF2
    sup_all start "$_start_k"
    # a swarm child is replaced by its swarm: TERM to each quiet one
    while IFS='|' read -r _pid _st _ver _busy _conc _q _tag; do
      [ "$_q" = true ] && [ -n "$_swarm_k" ] || continue
      discover "$_pid"
      case "$NL$_swarm_k" in *"$NL$SUP$NL"*) log "pid $_pid: TERM (its sidekiqswarm replaces it)" && { sig TERM "$_pid" "$_st" || :; } ;; esac
    done <<EOF2
$PROCS
EOF2
    sup_all restart "$_restart"
  fi
  log "restart issued; waiting for fresh processes"
  wait_fresh
  rm -f "$REC"
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
LOCK_WAIT=${SIDEKIQCTL_LOCK_WAIT:-60}
digits "$LOCK_WAIT" || usage_error "SIDEKIQCTL_LOCK_WAIT needs seconds, got: $LOCK_WAIT"
MYUID=$(id -u)
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
