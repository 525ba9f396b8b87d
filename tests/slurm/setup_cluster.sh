#!/usr/bin/env bash
# A real single-node Slurm on localhost for the integration test (tests/slurm/run.sh), without systemd.
#   bash tests/slurm/setup_cluster.sh start DIR   installs slurm-wlm and munge (apt-get) if missing, writes a
#                                                  munge key if there is none, writes DIR/etc/slurm.conf and
#                                                  DIR/etc/cgroup.conf for this machine (CPUs and memory as
#                                                  `slurmd -C` reads them), starts munged, slurmctld and slurmd
#                                                  as daemons and waits until `sinfo` shows the node idle.
#                                                  DIR/env.sh then sets SLURM_CONF for sbatch, squeue, sacct.
#   bash tests/slurm/setup_cluster.sh stop DIR    kills the daemons that `start DIR` started (by their pid files).
# Everything of the cluster's (state, spool, logs, pid files) lives in DIR; nothing under /etc/slurm is
# written. Needs root (apt-get, munged's key, slurmd). Exit codes: 0 ready, 1 setup failed (the reason
# on one line, the daemon logs under DIR/log), 2 usage.
set -euo pipefail

usage() { echo "usage: setup_cluster.sh start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
fail() { echo "slurm setup: $*" >&2; exit 1; }

stop_cluster() {
  local name pid
  for name in slurmd slurmctld munged; do
    [ -f "$dir/run/$name.pid" ] || continue
    pid=$(cat "$dir/run/$name.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/run/$name.pid"
  done
}

if [ "$action" = stop ]; then stop_cluster; exit 0; fi
[ "$action" = start ] || usage
[ "$(id -u)" -eq 0 ] || fail "needs root (slurmd and munged); run as root or use run.sh's fallback"

# 1. Packages: Debian's slurm-wlm (slurmctld, slurmd, client) and munge.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
   || ! command -v munged >/dev/null; then
  echo "== slurm: installing slurm-wlm and munge (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$dir/apt.log" 2>&1 || fail "apt-get update failed (see $dir/apt.log)"
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >>"$dir/apt.log" 2>&1 \
    || fail "apt-get install slurm-wlm munge failed (see $dir/apt.log)"
fi

# A previous start in the same DIR: stop its daemons first, so ports and pid files are free.
stop_cluster
mkdir -p "$dir/etc" "$dir/log" "$dir/run" "$dir/state" "$dir/spool"

# 2. Munge: the package's key if it has one, else a new random key (munged wants owner munge, mode 0400).
key=/etc/munge/munge.key
if [ ! -s "$key" ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
fi
chown munge:munge /etc/munge "$key" 2>/dev/null || true
chmod 0700 /etc/munge
chmod 0400 "$key"
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
# The default socket (/run/munge/munge.socket.2) is the one Slurm's auth/munge plugin asks; if a munged
# already answers there (a host that runs one), use it.
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  echo "== slurm: using the munged that already runs" >&2
else
  # munged's own log and pid places: DIR may sit in a folder the munge user cannot enter (mktemp -d).
  runuser -u munge -- munged --force --pid-file=/run/munge/munged.pid --log-file=/var/log/munge/munged.log \
    || fail "munged did not start: $(tail -1 /var/log/munge/munged.log 2>/dev/null)"
  cp /run/munge/munged.pid "$dir/run/munged.pid"
  for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null 2>&1 || fail "munge does not round-trip a credential (see /var/log/munge/munged.log)"
fi

# 3. slurm.conf for one node on localhost: the hardware line as slurmd -C reads it, no cgroups
#    (proctrack/linuxproc, task/none), no accounting daemon (sacct reads the job completion file).
node=$(hostname -s)
hardware=$(slurmd -C | head -1 | sed -E 's/^NodeName=[^ ]+ //')
[ -n "$hardware" ] || fail "slurmd -C printed no hardware line"
cat >"$dir/etc/slurm.conf" <<EOF
# Written by tests/slurm/setup_cluster.sh for a one-node test cluster on localhost.
ClusterName=vitlens-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=${VITLENS_SLURMCTLD_PORT:-6817}
SlurmdPort=${VITLENS_SLURMD_PORT:-6818}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=$node NodeAddr=127.0.0.1 $hardware State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
cat >"$dir/etc/cgroup.conf" <<EOF
# No cgroup constraints: the test cluster runs inside containers whose cgroup tree it may not change.
CgroupPlugin=autodetect
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF
export SLURM_CONF=$dir/etc/slurm.conf
cat >"$dir/env.sh" <<EOF
export SLURM_CONF=$dir/etc/slurm.conf
EOF

# 4. The daemons. -c: a clean start (no jobs from an earlier run of this DIR).
slurmctld -c -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 \
  || fail "slurmctld did not start: $(tail -1 "$dir/log/slurmctld.log" 2>/dev/null || tail -1 "$dir/log/slurmctld.out")"
slurmd -c -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 \
  || fail "slurmd did not start: $(tail -1 "$dir/log/slurmd.log" 2>/dev/null || tail -1 "$dir/log/slurmd.out")"

# 5. Wait (30 s at most) for the node to be idle.
for _ in $(seq 1 60); do
  state=$(sinfo -h -n "$node" -o %t 2>/dev/null | head -1 || true)
  case "$state" in idle*) echo "== slurm: node $node idle ($hardware)" >&2; exit 0 ;; esac
  sleep 0.5
done
fail "node $node not idle after 30 s (state '${state:-none}'; logs in $dir/log)"
