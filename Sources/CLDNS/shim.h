#ifndef DNSWATCH_CLDNS_SHIM_H
#define DNSWATCH_CLDNS_SHIM_H
#include <ldns/ldns.h>
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/// Fills `buf` with `len` bytes from the kernel's CSPRNG (getrandom(2) is not visible through Swift's Glibc
/// module). Returns the number of bytes written, or -1.
static inline ssize_t dnswatch_getrandom(void *buf, size_t len) {
    return getrandom(buf, len, 0);
}

/// The layout of the kernel's `struct mmsghdr` (glibc declares it only under _GNU_SOURCE, which Swift's Glibc
/// module does not see): one message header and the byte count the call filled in.
struct dnswatch_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// recvmmsg(2) without a timeout: receives up to `vlen` datagrams in one call. Returns how many, or -1 (errno).
static inline int dnswatch_recvmmsg(int fd, struct dnswatch_mmsghdr *vec, unsigned int vlen, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, vec, vlen, flags, (void *)0);
}

/// sendmmsg(2): sends up to `vlen` datagrams in one call. Returns how many were sent, or -1 (errno) when the
/// first one failed.
static inline int dnswatch_sendmmsg(int fd, struct dnswatch_mmsghdr *vec, unsigned int vlen, int flags) {
    return (int)syscall(SYS_sendmmsg, fd, vec, vlen, flags);
}
#endif
