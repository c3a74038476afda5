# measure.sh: what a server costs the machine, sourced by bench.sh and c1m.sh.
# CPU in nanoseconds from the scheduler, kernel memory from a memory cgroup
# (cgroup v1, kmem accounted) or, without one, from /proc/meminfo deltas.

# kernel_kib: the machine's kernel memory now (Slab + PageTables + KernelStack), KiB.
kernel_kib() {
    awk '$1 ~ /^(Slab|PageTables|KernelStack):$/ { s += $2 } END { print s + 0 }' /proc/meminfo
}

# tasks_cpu_ns PID...: CPU time of every thread of the processes, ns (schedstat's
# first field). A thread that has exited is no longer counted. One cat for all:
# a process per PID, once a second over 64 workers, is load of its own on the
# machine being measured.
tasks_cpu_ns() {
    files=
    for p in "$@"; do files="$files /proc/$p/task/*/schedstat"; done  # expanded below
    cat $files 2>/dev/null </dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# A cgroup per server: cpuacct.usage sums the CPU of every task that ever ran in
# it, exited ones included, in ns; memory.kmem.* counts sockets, epoll items, page
# tables and kernel stacks charged to it. CG_MEM and CG_CPU are empty without them.
CG_MEM= CG_CPU=
CG_ROOT=${CG_ROOT:-/sys/fs/cgroup}
cg_create() {  # cg_create NAME
    CG_MEM= CG_CPU=
    [ -f "$CG_ROOT/memory/memory.kmem.usage_in_bytes" ] &&
        mkdir "$CG_ROOT/memory/$1" 2>/dev/null && CG_MEM=$CG_ROOT/memory/$1
    [ -f "$CG_ROOT/cpuacct/cpuacct.usage" ] &&
        mkdir "$CG_ROOT/cpuacct/$1" 2>/dev/null && CG_CPU=$CG_ROOT/cpuacct/$1
    return 0
}
# cg_exec COMMAND... &: COMMAND runs inside the cgroups, entered before it starts;
# it replaces the shell, so only in the background, where $! is then its pid.
cg_exec() {
    exec sh -c 'for g in $1 $2; do echo $$ >"$g/cgroup.procs" || exit 126; done; shift 2; exec "$@"' \
        sh "$CG_MEM" "$CG_CPU" "$@"
}
cg_cpu_ns() { cat "$CG_CPU/cpuacct.usage"; }
cg_kmem_reset() { echo 0 >"$CG_MEM/memory.kmem.max_usage_in_bytes"; }
cg_kmem_kib() { echo $(($(cat "$CG_MEM/memory.kmem.$1") / 1024)); }  # usage_in_bytes or max_usage_in_bytes
# cg_remove: once its tasks are gone (a dying srv_fork child takes a moment).
cg_remove() {
    for g in $CG_MEM $CG_CPU; do
        for _ in $(seq 100); do rmdir "$g" 2>/dev/null && break; sleep 0.1; done
        [ -d "$g" ] && echo "measure: could not remove cgroup $g: $(wc -l <"$g/cgroup.procs") tasks left" >&2
    done
    CG_MEM= CG_CPU=
}
