#!/usr/bin/env bash
# Print what is needed to diagnose a failed SLURM CI run: daemon and node state, the
# queue and recent accounting, tails of the daemon logs, and tails of the per-job logs
# that snakemake's SLURM executor keeps under WORKDIR/.snakemake/slurm_logs.
#
# Usage: logs.sh [WORKDIR] [LINES]     (LINES per file, default 60)
#   SLURM_LOGS_JOBS_ONLY=1: only WORKDIR's logs (no daemon state or daemon logs)
# Always exits 0: it runs when something already failed.
set -uo pipefail

workdir=${1:-}
lines=${2:-60}

section() { printf '\n===== %s =====\n' "$*"; }

tail_files() { # tail_files TITLE_PREFIX FILE...
  local prefix=$1 f
  shift
  for f in "$@"; do
    section "${prefix}tail -n $lines $f"
    tail -n "$lines" "$f"
  done
}

# Files under DIR matching NAME, oldest first (the latest failure ends up last).
by_age() { find "$1" -type f -name "$2" -size +0 -printf '%T@ %p\n' 2>/dev/null | sort -n | cut -d' ' -f2-; }

print_daemons() {
  section "daemons"
  ps -o pid,stat,etime,comm -C munged,mariadbd,slurmdbd,slurmctld,slurmd 2>/dev/null
  if command -v sinfo >/dev/null; then
    section "sinfo -N -l"
    timeout 10 sinfo -N -l 2>&1
    section "squeue"
    timeout 10 squeue -l 2>&1
    section "sacct (the last 40 jobs of the last 2 hours)"
    timeout 10 sacct -a -X -S now-2hours \
      -o JobID,JobName%40,Account,State,ExitCode,Elapsed,ReqMem,Comment%60 2>&1 |
      awk 'NR <= 2 { print; next } { last[NR % 40] = $0 } END { for (i = NR - 39; i <= NR; i++) if (i > 2) print last[i % 40] }'
  fi
  local daemon_logs=(/var/log/slurm/*.log)
  [[ -f ${daemon_logs[0]} ]] && tail_files "" "${daemon_logs[@]}"
  if [[ -f /var/log/munge/munged.log ]]; then
    # Slurm makes munged log this line for every job: harmless (root decoding a
    # credential restricted to the slurm user), and it would hide everything else.
    section "tail -n $lines /var/log/munge/munged.log, without 'Unauthorized credential'"
    grep -v 'Unauthorized credential for client' /var/log/munge/munged.log | tail -n "$lines"
  fi
}

[[ ${SLURM_LOGS_JOBS_ONLY:-0} == 1 ]] || print_daemons

if [[ -n $workdir ]]; then
  if [[ -d $workdir/.snakemake/slurm_logs ]]; then
    mapfile -t job_logs < <(by_age "$workdir/.snakemake/slurm_logs" '*.log')
    tail_files "SLURM job log: " "${job_logs[@]}"
  else
    section "no $workdir/.snakemake/slurm_logs"
  fi
  if [[ -d $workdir/logs ]]; then
    mapfile -t rule_logs < <(by_age "$workdir/logs" '*.log' | tail -n 20)
    tail_files "rule log: " "${rule_logs[@]}"
  fi
fi
exit 0
