#!/usr/bin/env bash
# Start a real single-node SLURM cluster on a Debian 12 machine without systemd:
# munged, MariaDB + slurmdbd (accounting, so that `sacct` works), slurmctld, slurmd.
# Then add account "ci" with user root, wait for the node to take jobs and smoke-test it.
#
# Idempotent: installs only missing packages and starts only daemons that are not alive,
# so it can be re-run on a fresh machine, with everything running, or after daemons died.
#
# Environment:
#   SLURM_KEEP_OLD_JOBS=1      keep the jobs slurmctld recovers from its state files
#                              (default: scancel them when slurmctld had to be started)
#   SLURM_START_TIMEOUT=SECS   limit of each single wait (default 60)
set -euo pipefail

readonly WAIT=${SLURM_START_TIMEOUT:-60}
readonly PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
readonly CLUSTER=ci ACCOUNT=ci PARTITION=debug
readonly DB_NAME=slurm_acct_db DB_USER=slurm DB_PASS=slurmci
readonly SLURM_ETC=/etc/slurm LOG_DIR=/var/log/slurm
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
START=$SECONDS

log() { printf '[slurm-start %3ds] %s\n' "$((SECONDS - START))" "$*"; }

die() {
  printf '[slurm-start %3ds] ERROR: %s\n' "$((SECONDS - START))" "$*" >&2
  bash "$HERE/logs.sh" >&2 || true
  exit 1
}

# shellcheck source=.ci/slurm/alive.sh
source "$HERE/alive.sh"

# wait_for SECONDS WHAT CMD...: poll CMD (each try limited to 10 s) until it succeeds.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until timeout 10 "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || die "timed out after ${limit}s waiting for $what"
    sleep 0.5
  done
}

# stop_daemon PIDFILE NAME: SIGTERM, then SIGKILL after 15 s; returns when it is gone.
stop_daemon() {
  alive "$1" "$2" || return 0
  local pid end
  read -r pid <"$1"
  log "stopping $2 (pid $pid)"
  kill "$pid" 2>/dev/null || true
  end=$((SECONDS + 15))
  while alive "$1" "$2" && ((SECONDS < end)); do sleep 0.2; done
  if alive "$1" "$2"; then
    kill -9 "$pid" 2>/dev/null || true
    sleep 0.5
  fi
}

# write_if_changed FILE MODE OWNER: install stdin as FILE; true if its content changed.
write_if_changed() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
    return 1
  fi
  install -m "$2" -o "$3" -g "$3" "$tmp" "$1"
  rm -f "$tmp"
}

install_packages() {
  local missing=() p added_policy=false
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  # Without systemd, the packages' postinst scripts must not try to start the daemons:
  # this script starts them itself, with its own configuration.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    added_policy=true
  fi
  local rc=0
  {
    timeout 300 apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
        --no-install-recommends "${missing[@]}"
  } >/tmp/slurm-ci-apt.log 2>&1 || rc=$?
  if $added_policy; then rm -f /usr/sbin/policy-rc.d; fi
  if ((rc)); then
    tail -n 30 /tmp/slurm-ci-apt.log >&2
    die "apt-get failed (exit $rc), full log in /tmp/slurm-ci-apt.log"
  fi
}

write_configs() {
  local node_line host
  node_line=$(slurmd -C | sed -n 1p)
  [[ $node_line == NodeName=* ]] || die "unexpected 'slurmd -C' output: $node_line"
  host=${node_line%% *}
  host=${host#NodeName=}
  # slurmd takes its node name from the short hostname, so must the controller.
  [[ $host == "$(hostname -s)" ]] || die "slurmd -C says $host, hostname -s says $(hostname -s)"

  install -d -o slurm -g slurm /var/spool/slurmctld "$LOG_DIR" /run/slurm
  install -d /var/spool/slurmd "$SLURM_ETC"

  if write_if_changed "$SLURM_ETC/slurm.conf" 644 root <<EOF; then
ClusterName=$CLUSTER
SlurmctldHost=$host
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
# task/none would make every 'srun --cpu-bind' warn; task/affinity needs no cgroups.
TaskPlugin=task/affinity
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without it, a job that asks for no memory gets the whole node and blocks all others.
DefMemPerCPU=1000
MinJobAge=300
# Reject at submission a job that can never run here (e.g. more CPUs than the node has)
# instead of leaving it pending for ever, which would hang snakemake until its timeout.
EnforcePartLimits=ALL
MailProg=/bin/true
SlurmctldTimeout=30
SlurmdTimeout=30
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
# sacct then shows snakemake's --comment (rule and wildcards) of each job.
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
# Sample every second and kill steps that use more memory than they asked for, as the
# cgroups of a real cluster would: proves the workflow's mem_mb estimates are enough.
JobAcctGatherFrequency=1
JobAcctGatherParams=OverMemoryKill
$node_line State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    log "wrote $SLURM_ETC/slurm.conf ($node_line)"
    stop_daemon /run/slurm/slurmd.pid slurmd
    stop_daemon /run/slurm/slurmctld.pid slurmctld
  fi

  if write_if_changed "$SLURM_ETC/slurmdbd.conf" 600 slurm <<EOF; then
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
PidFile=/run/slurm/slurmdbd.pid
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=$DB_USER
StoragePass=$DB_PASS
StorageLoc=$DB_NAME
EOF
    log "wrote $SLURM_ETC/slurmdbd.conf"
    stop_daemon /run/slurm/slurmdbd.pid slurmdbd
  fi
}

start_munge() {
  if ! alive /run/munge/munged.pid munged; then
    if [[ ! -s /etc/munge/munge.key ]]; then
      mungekey --create --keyfile=/etc/munge/munge.key
      chown munge:munge /etc/munge/munge.key
      chmod 400 /etc/munge/munge.key
    fi
    install -d -o munge -g munge -m 755 /run/munge
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged || die "munged did not start"
  fi
  wait_for "$WAIT" "munge to encode and decode a credential" \
    bash -c 'munge -n | unmunge'
}

start_mariadb() {
  if ! alive /run/mysqld/mysqld.pid mariadbd; then
    if [[ ! -d /var/lib/mysql/mysql ]]; then
      log "initialising the MariaDB data directory"
      mariadb-install-db --user=mysql --datadir=/var/lib/mysql >>"$LOG_DIR/mariadbd.log" 2>&1 ||
        die "mariadb-install-db failed"
    fi
    install -d -o mysql -g mysql /run/mysqld
    log "starting mariadbd"
    # mariadbd does not daemonise itself.
    setsid nohup /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 \
      --pid-file=/run/mysqld/mysqld.pid --innodb-lock-wait-timeout=900 \
      >>"$LOG_DIR/mariadbd.log" 2>&1 </dev/null &
  fi
  wait_for "$WAIT" "MariaDB to accept connections" mariadb -e 'SELECT 1'
  mariadb -e "CREATE DATABASE IF NOT EXISTS $DB_NAME;
    CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
    GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'localhost';" || die "could not set up the accounting database"
}

start_slurmdbd() {
  if ! alive /run/slurm/slurmdbd.pid slurmdbd; then
    log "starting slurmdbd"
    /usr/sbin/slurmdbd || die "slurmdbd did not start"
  fi
  wait_for "$WAIT" "slurmdbd to answer (sacctmgr list cluster)" sacctmgr -n list cluster
}

# Returns 0 if slurmctld had to be started.
start_slurmctld() {
  local started=1
  if ! alive /run/slurm/slurmctld.pid slurmctld; then
    log "starting slurmctld"
    /usr/sbin/slurmctld || die "slurmctld did not start"
    started=0
  fi
  wait_for "$WAIT" "slurmctld to answer (scontrol ping)" \
    bash -c 'scontrol ping | grep -q "is UP"'
  return "$started"
}

start_slurmd() {
  if ! alive /run/slurm/slurmd.pid slurmd; then
    log "starting slurmd"
    /usr/sbin/slurmd || die "slurmd did not start"
  fi
}

ensure_account() {
  # slurmctld registers its cluster in slurmdbd by itself, shortly after it starts.
  wait_for "$WAIT" "cluster $CLUSTER to be registered in slurmdbd" \
    bash -c "sacctmgr -n -P list cluster format=cluster | grep -qx $CLUSTER"
  if [[ -z $(sacctmgr -n -P list account "$ACCOUNT" format=account) ]]; then
    log "adding account $ACCOUNT"
    sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description="CI account" \
      Organization=ci >/dev/null || die "sacctmgr add account failed"
  fi
  if [[ -z $(sacctmgr -n -P list assoc cluster="$CLUSTER" account="$ACCOUNT" user=root format=user) ]]; then
    log "adding user root to account $ACCOUNT"
    sacctmgr -i add user root Account="$ACCOUNT" DefaultAccount="$ACCOUNT" >/dev/null ||
      die "sacctmgr add user failed"
  fi
}

# slurmctld recovers the jobs of a killed session from its state files; their processes
# are gone but they would stay RUNNING until their time limit and hold the CPUs.
cancel_stale_jobs() {
  local jobs
  jobs=$(squeue -h -o %A | tr '\n' ' ') || die "squeue failed"
  [[ -n ${jobs// /} ]] || return 0
  log "cancelling stale jobs: $jobs"
  # shellcheck disable=SC2086  # one argument per job id
  scancel $jobs || true
}

node_state() { sinfo -h -N -n "$(hostname -s)" -o %T 2>/dev/null | head -n 1 || true; }

# Idle, or busy with someone's jobs: either way slurmd answers (a "*" suffix means it
# does not) and the node takes jobs.
wait_node_ready() {
  local end=$((SECONDS + WAIT)) state resumed=false
  while :; do
    state=$(node_state)
    [[ $state =~ ^(idle|mixed|allocated|completing)$ ]] && return 0
    # A node that was 'down' when slurmctld came back is not always returned to service.
    if [[ $state == down* || $state == drain* ]] && ! $resumed; then
      log "node is $state, resuming it"
      scontrol update NodeName="$(hostname -s)" State=RESUME || true
      resumed=true
    fi
    ((SECONDS < end)) || die "node is '$state', not ready, after ${WAIT}s"
    sleep 0.5
  done
}

smoke_test() {
  local out job state end
  out=$(timeout 60 srun -A "$ACCOUNT" -t 1 --mem=50 hostname 2>&1) ||
    die "srun hostname failed: $out"
  [[ $out == "$(hostname -s)"* ]] || die "srun hostname printed: $out"
  job=$(sbatch --parsable -A "$ACCOUNT" -t 1 --mem=50 -o /dev/null -J ci-smoke --wrap true) ||
    die "sbatch failed"
  end=$((SECONDS + WAIT))
  while :; do
    state=$(sacct -n -X -P -j "$job" -o State 2>/dev/null | head -n 1 || true)
    [[ $state == COMPLETED ]] && break
    [[ -z $state || $state == PENDING || $state == RUNNING ]] ||
      die "smoke-test job $job ended as $state"
    ((SECONDS < end)) || die "smoke-test job $job is '$state' after ${WAIT}s (sacct)"
    sleep 0.5
  done
  log "smoke test passed: srun ran on $out; sbatch job $job COMPLETED (sacct):"
  sacct -X -j "$job" -o JobID,Account,State,ExitCode,Elapsed,NodeList
}

main() {
  [[ $EUID -eq 0 ]] || die "must run as root"
  install_packages
  write_configs
  start_munge
  start_mariadb
  start_slurmdbd
  local ctld_started=false
  if start_slurmctld; then ctld_started=true; fi
  start_slurmd
  ensure_account
  if $ctld_started && [[ ${SLURM_KEEP_OLD_JOBS:-0} != 1 ]]; then cancel_stale_jobs; fi
  wait_node_ready
  log "cluster up: $(sinfo -h -o '%P %D %T %c CPUs %m MB')"
  smoke_test
  log "done"
}

main "$@"
