#!/usr/bin/env bash
# Stop the daemons that start.sh starts, newest first, using their pid files.
# Tolerates daemons that are not running, already dead, or never installed.
set -euo pipefail

# name:pidfile, in stop order
readonly DAEMONS=(
  slurmd:/run/slurm/slurmd.pid
  slurmctld:/run/slurm/slurmctld.pid
  slurmdbd:/run/slurm/slurmdbd.pid
  mariadbd:/run/mysqld/mysqld.pid
  munged:/run/munge/munged.pid
)

# shellcheck source=.ci/slurm/alive.sh
source "$(dirname "${BASH_SOURCE[0]}")/alive.sh"

for entry in "${DAEMONS[@]}"; do
  name=${entry%%:*}
  pidfile=${entry#*:}
  if ! alive "$pidfile" "$name"; then
    echo "[slurm-stop] $name: not running"
    continue
  fi
  read -r pid <"$pidfile"
  kill "$pid" 2>/dev/null || true
  end=$((SECONDS + 20))
  while alive "$pidfile" "$name" && ((SECONDS < end)); do sleep 0.2; done
  if alive "$pidfile" "$name"; then
    echo "[slurm-stop] $name (pid $pid) ignored SIGTERM for 20 s, sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  else
    echo "[slurm-stop] $name (pid $pid) stopped"
  fi
  # munged removes its own pid file; the others may leave a stale one behind.
  rm -f "$pidfile"
done
