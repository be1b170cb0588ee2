#!/usr/bin/env bash
# A one-node SLURM cluster (slurmctld + slurmd, a gres "gpu" on the node, partitions "cpu" and
# "gpu" on that node) for the profile test.
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
AuthInfo=socket=$dir/munge/munge.socket
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
PartitionName=cpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=ALL MaxTime=INFINITE State=UP
CONF
    echo "Name=gpu File=/dev/null" > "$dir/gres.conf"
    export SLURM_CONF="$dir/slurm.conf"
    # Job steps (srun inside a job) run with SLURM_* variables stripped by Snakemake's
    # jobstep executor, so they need the configuration at the default path.
    if [ -e /etc/slurm/slurm.conf ] && [ ! -L /etc/slurm/slurm.conf ]; then
        echo "/etc/slurm/slurm.conf is a real file; refusing to replace it" >&2
        exit 1
    fi
    mkdir -p /etc/slurm
    ln -sfn "$SLURM_CONF" /etc/slurm/slurm.conf
    # A munged of our own (own key, socket, pid file), isolated from any system one.
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 600 "$dir/munge/munge.key"
    munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
        --seed-file="$dir/munge/munged.seed" >&2
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
    if [ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$dir/slurm.conf" ]; then
        rm -f /etc/slurm/slurm.conf
    fi
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
