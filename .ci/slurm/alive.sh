# shellcheck shell=bash
# Sourced by start.sh and stop.sh.
# alive PIDFILE NAME: true if the pid file names a live process called NAME.
# `kill -0` is not enough: a SIGKILLed daemon stays a zombie until PID 1 reaps it,
# and a stale pid file may name a recycled pid.
alive() {
  local pid stat comm state
  [[ -r $1 ]] || return 1
  read -r pid <"$1" 2>/dev/null || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
  comm=${stat#*(}
  comm=${comm%)*}
  state=${stat##*) }
  state=${state%% *}
  [[ $comm == "$2" && $state != Z ]]
}
