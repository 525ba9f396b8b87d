// System calls Swift's Glibc module does not export (renameat2 needs _GNU_SOURCE).
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include "vitlens_system.h"

int vitlens_exchange_paths(const char *a, const char *b) {
#if defined(__linux__) && defined(RENAME_EXCHANGE)
    if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0) return 0;
    return errno;
#elif defined(__APPLE__)
    if (renamex_np(a, b, RENAME_SWAP) == 0) return 0;
    return errno;
#else
    (void)a; (void)b;
    return ENOSYS;
#endif
}

long vitlens_fetch_increment(long *counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }
