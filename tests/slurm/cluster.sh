#!/usr/bin/env bash
# A one-node SLURM cluster (slurmctld + slurmd, a gres "gpu" on the node) for the profile test.
#   cluster.sh start DIR   install slurm-wlm/munge if absent, write DIR/slurm.conf, start daemons
#   cluster.sh stop DIR    stop exactly the daemons this script started (by their pid files)
# Prints "export SLURM_CONF=..." on start; clients need it.
set -euo pipefail
cmd=$1
dir=$(realpath -m "$2")

install_if_absent() {
    if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
        [ "$(id -u)" = 0 ] || { echo "slurm-wlm and munge are missing and we are not root" >&2; exit 1; }
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >&2 ||
            { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >&2; }
    fi
}

start() {
    install_if_absent
    mkdir -p "$dir"/{state,spool,log,munge}
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
    cat > "$dir/slurm.conf" <<CONF
ClusterName=rgtopo-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MailProg=/bin/true
ReturnToService=2
MinJobAge=900
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
GresTypes=gpu
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    echo "Name=gpu File=/dev/null" > "$dir/gres.conf"
    export SLURM_CONF="$dir/slurm.conf"
    if ! pgrep -x munged >/dev/null; then
        mkdir -p /run/munge
        munged --force --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" >&2
    fi
    slurmctld -f "$SLURM_CONF" >&2
    slurmd -f "$SLURM_CONF" >&2
    for _ in $(seq 60); do
        if sinfo -h -o %T 2>/dev/null | grep -qE "^idle"; then
            echo "export SLURM_CONF=$SLURM_CONF"
            return 0
        fi
        sleep 1
    done
    echo "slurm did not come up; see $dir/log" >&2
    exit 1
}

stop() {
    for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    for _ in $(seq 20); do
        alive=0
        for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
            [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && alive=1
        done
        [ $alive = 0 ] && return 0
        sleep 0.5
    done
}

"$cmd"
