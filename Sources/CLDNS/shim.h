#ifndef DNSWATCH_CLDNS_SHIM_H
#define DNSWATCH_CLDNS_SHIM_H
#include <ldns/ldns.h>
#include <sys/types.h>
#include <sys/random.h>

/// Fills `buf` with `len` bytes from the kernel's CSPRNG (getrandom(2) is not visible through Swift's Glibc
/// module). Returns the number of bytes written, or -1.
static inline ssize_t dnswatch_getrandom(void *buf, size_t len) {
    return getrandom(buf, len, 0);
}
#endif
