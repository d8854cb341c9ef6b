# Sourced by the launch scripts (dist_train.sh, dist_test.sh, slurm_*.sh): run the Python
# processes on jemalloc where the system has it (Debian/Ubuntu: apt-get install libjemalloc2).
# glibc's malloc keeps much of what a training step frees (large activation buffers at
# changing sizes), so the peak RSS of a 512², batch-2 CPU step of csunet_r50 was 5.51 GB on
# glibc and 4.31 GB on jemalloc (Unet-r50: 3.43 -> 2.95 GB); docs/benchmark.md.
#   CSUNET_ALLOCATOR=system   keep the C library's malloc
#   CSUNET_JEMALLOC=/path.so  use this jemalloc library instead of the one ldconfig knows
# An LD_PRELOAD that already names a jemalloc or tcmalloc is left alone.
if [ "${CSUNET_ALLOCATOR:-jemalloc}" != "system" ] \
        && [[ "${LD_PRELOAD:-}" != *jemalloc* && "${LD_PRELOAD:-}" != *tcmalloc* ]]; then
    _csunet_jemalloc="${CSUNET_JEMALLOC:-$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null) \
        | awk '/libjemalloc\.so\.2 /{print $NF; exit}')}"
    if [ -n "$_csunet_jemalloc" ] && [ -r "$_csunet_jemalloc" ]; then
        export LD_PRELOAD="$_csunet_jemalloc${LD_PRELOAD:+:$LD_PRELOAD}"
    elif [ -n "${CSUNET_JEMALLOC:-}" ]; then
        echo "allocator.sh: CSUNET_JEMALLOC=$CSUNET_JEMALLOC is not a readable file; using the system malloc" >&2
    fi
    unset _csunet_jemalloc
fi
