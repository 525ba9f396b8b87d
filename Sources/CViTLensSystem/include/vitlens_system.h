#ifndef VITLENS_SYSTEM_H
#define VITLENS_SYSTEM_H

/// Atomically exchanges two paths (both must exist): Linux renameat2(RENAME_EXCHANGE), macOS
/// renamex_np(RENAME_SWAP). Returns 0, or an errno value (ENOSYS/EINVAL/ENOTSUP where the system or
/// the file system cannot exchange, so the caller can fall back to two renames).
int vitlens_exchange_paths(const char *a, const char *b);

/// Atomically adds 1 to `*counter` and returns the value before (relaxed order: a work index).
long vitlens_fetch_increment(long *counter);

#endif
