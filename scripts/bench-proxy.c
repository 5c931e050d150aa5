/* bench-proxy: a UDP DNS proxy on loopback that adds latency and loss, for scripts/bench world (b).
 *
 *   bench-proxy --listen 127.0.0.1:P --upstream 127.0.0.1:Q [--delay-ms 20-60] [--loss 0.01]
 *               [--seed N] [--max-seconds 1800] [--max-mapped 16384] [--max-queued 16384]
 *               [--map-timeout-ms 10000] [--sockbuf BYTES]
 *
 * One UDP socket faces the clients (bound to --listen), one is connected to the upstream resolver.
 * Each query from a client is dropped with probability --loss (before it is forwarded), or given a
 * proxy-assigned DNS ID (a table maps it back to the client's address and original ID) and sent
 * upstream. Each upstream reply is held for a delay drawn uniformly from --delay-ms (a min-heap by
 * deadline), then sent to the client with the original ID restored. Bounded: at most --max-mapped
 * queries awaiting a reply (a mapping unanswered after --map-timeout-ms is expired) and at most
 * --max-queued replies held; what does not fit is dropped and counted as overflowed.
 * Loopback only: --listen and --upstream must be in 127.0.0.0/8 or ::1, and datagrams from any other
 * source are ignored (counted as refused).
 *
 * Single thread, ppoll(). SIGUSR1 prints a stats line to stderr (counters since start; min/max of the
 * applied delay since the previous stats line); SIGTERM, SIGINT or --max-seconds print a final line
 * and exit 0. Stats lines are `bench-proxy: stats|final key=value ...`: received (queries from
 * clients), dropped (by --loss), forwarded, overflowed (a bound was full), answered (upstream replies
 * matched and held), replied (sent to the client), expired, unmatched (upstream replies with an ID not
 * in the table), refused (non-loopback source), rx_overflow_* (datagrams the kernel dropped at the
 * proxy's sockets, SO_RXQ_OVFL), inflight_max (the most queries outstanding at the proxy, awaiting
 * the upstream or held, since the previous line: the client's concurrency), the sums of the applied delay (upstream reply to client reply), the
 * upstream RTT and the RTT at the proxy (client query to client reply) in µs, and their means.
 * The RNG (splitmix64) is seeded by --seed, so the same seed and query order give the same drops
 * and delays.
 *
 * Build: cc -O2 -o bench-proxy scripts/bench-proxy.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ID 65536
#define BUF_SIZE 65536

static volatile sig_atomic_t got_term, got_usr1;
static void on_term(int sig) { (void)sig; got_term = 1; }
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64 */
static uint64_t rng_state;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); } /* [0,1) */

static void die(const char *msg) { fprintf(stderr, "bench-proxy: %s\n", msg); exit(2); }
static void die_errno(const char *what) { fprintf(stderr, "bench-proxy: %s: %s\n", what, strerror(errno)); exit(2); }

static int is_loopback(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr)) return 1;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) return a->sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

/* parse "A.B.C.D:PORT" or "[::1]:PORT"; refuses anything that is not loopback. */
static void parse_endpoint(const char *flag, const char *s, struct sockaddr_storage *ss, socklen_t *len) {
    char host[128];
    const char *colon;
    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host) goto bad;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = 0;
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host) goto bad;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
    }
    char *endp;
    long port = strtol(colon + 1, &endp, 10);
    if (*endp || port < 1 || port > 65535) goto bad;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
    } else {
        goto bad;
    }
    if (!is_loopback(ss)) {
        fprintf(stderr, "bench-proxy: %s %s: not a loopback address (only 127.0.0.0/8 and ::1)\n", flag, s);
        exit(2);
    }
    return;
bad:
    fprintf(stderr, "bench-proxy: %s wants ADDRESS:PORT (127.x.x.x:P or [::1]:P), got '%s'\n", flag, s);
    exit(2);
}

static long parse_long(const char *flag, const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        fprintf(stderr, "bench-proxy: %s wants a number in %ld..%ld, got '%s'\n", flag, lo, hi, s);
        exit(2);
    }
    return v;
}

struct mapping {           /* indexed by the proxy-assigned ID */
    uint8_t used;
    uint16_t orig_id;
    socklen_t client_len;
    struct sockaddr_storage client;
    uint64_t t_client;     /* query received from the client */
    uint64_t t_forward;    /* query sent upstream */
};

struct held {              /* a reply waiting for its deadline */
    uint64_t deadline;
    uint64_t t_client, t_upstream;
    socklen_t client_len;
    struct sockaddr_storage client;
    uint16_t len;
    uint8_t *buf;
};

static struct mapping map[MAX_ID];
static uint16_t free_ring[MAX_ID];        /* free proxy IDs, FIFO: a freed ID is reused as late as possible */
static unsigned free_head, free_count;
static struct held *heap;
static size_t heap_len, heap_cap;

static void heap_push(struct held h) {
    size_t i = heap_len++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (heap[p].deadline <= h.deadline) break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = h;
}
static struct held heap_pop(void) {
    struct held top = heap[0], last = heap[--heap_len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= heap_len) break;
        if (c + 1 < heap_len && heap[c + 1].deadline < heap[c].deadline) c++;
        if (last.deadline <= heap[c].deadline) break;
        heap[i] = heap[c];
        i = c;
    }
    if (heap_len > 0) heap[i] = last;
    return top;
}

static struct {
    unsigned long long received, forwarded, dropped, overflowed, answered, replied, expired, unmatched, refused,
        malformed, send_errors;
    unsigned long long delay_sum_us, upstream_sum_us, rtt_sum_us;
    uint64_t delay_min_ns, delay_max_ns;
    size_t inflight_max;   /* most queries a client had outstanding here (mapped + held), since the last line */
    uint32_t ovfl_client, ovfl_upstream;
} st;

static void print_stats(const char *kind, uint64_t t0) {
    double n = st.replied ? (double)st.replied : 1.0, na = st.answered ? (double)st.answered : 1.0;
    fprintf(stderr,
            "bench-proxy: %s t=%.3f received=%llu forwarded=%llu dropped=%llu overflowed=%llu answered=%llu replied=%llu "
            "expired=%llu unmatched=%llu refused=%llu malformed=%llu send_errors=%llu "
            "rx_overflow_client=%u rx_overflow_upstream=%u mapped=%u queued=%zu inflight_max=%zu "
            "delay_sum_us=%llu upstream_sum_us=%llu rtt_sum_us=%llu delay_min_ms=%.3f delay_max_ms=%.3f "
            "mean_delay_ms=%.3f mean_upstream_ms=%.3f mean_rtt_ms=%.3f\n",
            kind, (double)(now_ns() - t0) / 1e9, st.received, st.forwarded, st.dropped, st.overflowed,
            st.answered, st.replied, st.expired, st.unmatched, st.refused, st.malformed, st.send_errors, st.ovfl_client,
            st.ovfl_upstream, MAX_ID - free_count, heap_len, st.inflight_max, st.delay_sum_us, st.upstream_sum_us, st.rtt_sum_us,
            st.delay_max_ns ? (double)st.delay_min_ns / 1e6 : 0.0, (double)st.delay_max_ns / 1e6,
            (double)st.delay_sum_us / 1e3 / n, (double)st.upstream_sum_us / 1e3 / na, (double)st.rtt_sum_us / 1e3 / n);
    fflush(stderr);
    st.delay_min_ns = UINT64_MAX;
    st.delay_max_ns = 0;
    st.inflight_max = (MAX_ID - free_count) + heap_len;
}

static int make_socket(int family, long sockbuf) {
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die_errno("socket");
    int v = (int)sockbuf;
    /* as root, FORCE passes net.core.rmem_max / wmem_max; otherwise the plain option, capped there */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
#ifdef SO_RXQ_OVFL
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
#endif
    return fd;
}

/* recvmsg with the socket's kernel drop counter (SO_RXQ_OVFL) */
static ssize_t recv_one(int fd, uint8_t *buf, struct sockaddr_storage *from, socklen_t *fromlen, uint32_t *ovfl) {
    struct iovec iov = {buf, BUF_SIZE};
    char cbuf[CMSG_SPACE(sizeof(uint32_t))];
    struct msghdr mh = {0};
    mh.msg_name = from;
    mh.msg_namelen = from ? sizeof *from : 0;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    ssize_t n = recvmsg(fd, &mh, 0);
    if (n < 0) return n;
    if (fromlen) *fromlen = mh.msg_namelen;
#ifdef SO_RXQ_OVFL
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) memcpy(ovfl, CMSG_DATA(c), sizeof *ovfl);
#else
    (void)ovfl;
#endif
    return n;
}

static void usage(void) {
    fputs("usage: bench-proxy --listen ADDR:PORT --upstream ADDR:PORT [--delay-ms MIN-MAX] [--loss P]\n"
          "                   [--seed N] [--max-seconds S] [--max-mapped N] [--max-queued N]\n"
          "                   [--map-timeout-ms MS] [--sockbuf BYTES]\n"
          "Loopback only (127.0.0.0/8, ::1). Defaults: --delay-ms 20-60 --loss 0.01 --seed <time>\n"
          "--max-seconds 1800 --max-mapped 16384 --max-queued 16384 --map-timeout-ms 10000 --sockbuf 4194304\n",
          stderr);
}

int main(int argc, char **argv) {
    struct sockaddr_storage listen_addr, up_addr;
    socklen_t listen_len = 0, up_len = 0;
    long delay_min = 20, delay_max = 60, max_seconds = 1800, max_mapped = 16384, max_queued = 16384;
    long map_timeout_ms = 10000, sockbuf = 4194304;
    double loss = 0.01;
    uint64_t seed = (uint64_t)time(NULL);
    int have_listen = 0, have_up = 0;
    const char *listen_s = "", *up_s = "";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        if (!v) { fprintf(stderr, "bench-proxy: %s needs a value\n", a); usage(); return 2; }
        i++;
        if (!strcmp(a, "--listen")) { parse_endpoint(a, v, &listen_addr, &listen_len); have_listen = 1; listen_s = v; }
        else if (!strcmp(a, "--upstream")) { parse_endpoint(a, v, &up_addr, &up_len); have_up = 1; up_s = v; }
        else if (!strcmp(a, "--delay-ms")) {
            char *end;
            delay_min = strtol(v, &end, 10);
            if (*end == '-') delay_max = strtol(end + 1, &end, 10); else delay_max = delay_min;
            if (*end || delay_min < 0 || delay_max < delay_min || delay_max > 60000) die("--delay-ms wants MIN-MAX in ms (0..60000)");
        }
        else if (!strcmp(a, "--loss")) {
            char *end;
            loss = strtod(v, &end);
            if (*end || !(loss >= 0.0 && loss <= 1.0)) die("--loss wants a fraction in 0..1");
        }
        else if (!strcmp(a, "--seed")) seed = (uint64_t)parse_long(a, v, 0, LONG_MAX);
        else if (!strcmp(a, "--max-seconds")) max_seconds = parse_long(a, v, 1, 86400);
        else if (!strcmp(a, "--max-mapped")) max_mapped = parse_long(a, v, 1, MAX_ID);
        else if (!strcmp(a, "--max-queued")) max_queued = parse_long(a, v, 1, 1000000);
        else if (!strcmp(a, "--map-timeout-ms")) map_timeout_ms = parse_long(a, v, 1, 600000);
        else if (!strcmp(a, "--sockbuf")) sockbuf = parse_long(a, v, 4096, 1 << 30);
        else { fprintf(stderr, "bench-proxy: unknown argument '%s'\n", a); usage(); return 2; }
    }
    if (!have_listen || !have_up) { usage(); return 2; }
    rng_state = seed;

    /* signals: blocked except inside ppoll, so none is missed between the check and the wait */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGUSR1);
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)max_seconds + 10); /* backstop: SIGALRM's default action ends the process */

    int cfd = make_socket(listen_addr.ss_family, sockbuf);
    int one = 1;
    if (listen_addr.ss_family == AF_INET6) setsockopt(cfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(cfd, (struct sockaddr *)&listen_addr, listen_len) < 0) die_errno("bind --listen");
    int ufd = make_socket(up_addr.ss_family, sockbuf);
    struct sockaddr_storage up_bind = {0};
    socklen_t up_bind_len;
    if (up_addr.ss_family == AF_INET) {
        struct sockaddr_in *b = (struct sockaddr_in *)&up_bind;
        b->sin_family = AF_INET;
        b->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        up_bind_len = sizeof *b;
    } else {
        struct sockaddr_in6 *b = (struct sockaddr_in6 *)&up_bind;
        b->sin6_family = AF_INET6;
        b->sin6_addr = in6addr_loopback;
        up_bind_len = sizeof *b;
    }
    if (bind(ufd, (struct sockaddr *)&up_bind, up_bind_len) < 0) die_errno("bind upstream socket");
    if (connect(ufd, (struct sockaddr *)&up_addr, up_len) < 0) die_errno("connect --upstream");

    /* free IDs in a random order (Fisher-Yates with the seeded RNG) */
    for (unsigned i = 0; i < MAX_ID; i++) free_ring[i] = (uint16_t)i;
    for (unsigned i = MAX_ID - 1; i > 0; i--) {
        unsigned j = (unsigned)(rng_next() % (i + 1));
        uint16_t t = free_ring[i]; free_ring[i] = free_ring[j]; free_ring[j] = t;
    }
    free_head = 0;
    free_count = MAX_ID;
    heap_cap = (size_t)max_queued;
    heap = calloc(heap_cap, sizeof *heap);
    static uint8_t buf[BUF_SIZE];
    if (!heap) die("out of memory");
    st.delay_min_ns = UINT64_MAX;

    int rb = 0;
    socklen_t rbl = sizeof rb;
    getsockopt(cfd, SOL_SOCKET, SO_RCVBUF, &rb, &rbl);
    const uint64_t t0 = now_ns();
    const uint64_t t_end = t0 + (uint64_t)max_seconds * 1000000000u;
    const uint64_t dmin = (uint64_t)delay_min * 1000000u, dspan = (uint64_t)(delay_max - delay_min) * 1000000u;
    const uint64_t map_timeout = (uint64_t)map_timeout_ms * 1000000u;
    uint64_t next_sweep = t0 + 1000000000u;
    fprintf(stderr, "bench-proxy: listening on %s, upstream %s, delay %ld-%ld ms, loss %.4f, seed %llu, "
            "max-seconds %ld, max-mapped %ld, max-queued %ld, map-timeout %ld ms, socket buffers %d bytes (as the kernel reports them)\n",
            listen_s, up_s, delay_min, delay_max, loss, (unsigned long long)seed, max_seconds, max_mapped,
            max_queued, map_timeout_ms, rb);
    fflush(stderr);

    const char *why = "signal";
    for (;;) {
        if (got_usr1) { got_usr1 = 0; print_stats("stats", t0); }
        if (got_term) break;
        uint64_t now = now_ns();
        if (now >= t_end) { why = "max-seconds"; break; }

        /* send the replies that are due */
        while (heap_len > 0 && heap[0].deadline <= now) {
            struct held h = heap_pop();
            if (sendto(cfd, h.buf, h.len, 0, (struct sockaddr *)&h.client, h.client_len) == (ssize_t)h.len) {
                uint64_t sent = now_ns();
                uint64_t delay = sent - h.t_upstream;
                st.replied++;
                st.delay_sum_us += delay / 1000;
                st.rtt_sum_us += (sent - h.t_client) / 1000;
                if (delay < st.delay_min_ns) st.delay_min_ns = delay;
                if (delay > st.delay_max_ns) st.delay_max_ns = delay;
            } else {
                st.send_errors++;
            }
            free(h.buf);
        }
        /* mappings never answered */
        if (now >= next_sweep) {
            next_sweep = now + 1000000000u;
            for (unsigned id = 0; id < MAX_ID; id++) {
                if (map[id].used && now - map[id].t_forward > map_timeout) {
                    map[id].used = 0;
                    free_ring[(free_head + free_count++) % MAX_ID] = (uint16_t)id;
                    st.expired++;
                }
            }
        }

        struct pollfd pfd[2] = {{cfd, POLLIN, 0}, {ufd, POLLIN, 0}};
        uint64_t wake = t_end < next_sweep ? t_end : next_sweep;
        if (heap_len > 0 && heap[0].deadline < wake) wake = heap[0].deadline;
        uint64_t wait = wake > now ? wake - now : 0;
        struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
        int r = ppoll(pfd, 2, &ts, &waitmask);
        if (r < 0) {
            if (errno == EINTR) continue;
            die_errno("ppoll");
        }
        if (r == 0) continue;

        /* queries from clients: at most 256 per round, so that due replies are not held up */
        for (int k = 0; k < 256 && (pfd[0].revents & POLLIN); k++) {
            struct sockaddr_storage from;
            socklen_t fromlen;
            ssize_t n = recv_one(cfd, buf, &from, &fromlen, &st.ovfl_client);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNREFUSED) die_errno("recv (clients)");
                break;
            }
            uint64_t t = now_ns();
            if (!is_loopback(&from)) { st.refused++; continue; }
            if (n < 12) { st.malformed++; continue; }
            st.received++;
            if (loss > 0 && rng_unit() < loss) { st.dropped++; continue; }
            if ((long)(MAX_ID - free_count) >= max_mapped || free_count == 0) { st.overflowed++; continue; }
            uint16_t pid = free_ring[free_head];
            free_head = (free_head + 1) % MAX_ID;
            free_count--;
            struct mapping *m = &map[pid];
            m->used = 1;
            m->orig_id = (uint16_t)(buf[0] << 8 | buf[1]);
            m->client = from;
            m->client_len = fromlen;
            m->t_client = t;
            buf[0] = (uint8_t)(pid >> 8);
            buf[1] = (uint8_t)pid;
            if (send(ufd, buf, (size_t)n, 0) != n) {
                st.send_errors++;
                m->used = 0;
                free_ring[(free_head + free_count++) % MAX_ID] = pid;
                continue;
            }
            m->t_forward = now_ns();
            st.forwarded++;
            if ((MAX_ID - free_count) + heap_len > st.inflight_max) st.inflight_max = (MAX_ID - free_count) + heap_len;
        }
        /* replies from upstream */
        for (int k = 0; k < 256 && (pfd[1].revents & POLLIN); k++) {
            ssize_t n = recv_one(ufd, buf, NULL, NULL, &st.ovfl_upstream);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNREFUSED) die_errno("recv (upstream)");
                break;
            }
            uint64_t t = now_ns();
            if (n < 12) { st.malformed++; continue; }
            uint16_t pid = (uint16_t)(buf[0] << 8 | buf[1]);
            struct mapping *m = &map[pid];
            if (!m->used) { st.unmatched++; continue; }
            m->used = 0;
            free_ring[(free_head + free_count++) % MAX_ID] = pid;
            if (heap_len >= heap_cap) { st.overflowed++; continue; }
            struct held h;
            h.buf = malloc((size_t)n);
            if (!h.buf) { st.overflowed++; continue; }
            memcpy(h.buf, buf, (size_t)n);
            h.buf[0] = (uint8_t)(m->orig_id >> 8);
            h.buf[1] = (uint8_t)m->orig_id;
            h.len = (uint16_t)n;
            h.client = m->client;
            h.client_len = m->client_len;
            h.t_client = m->t_client;
            h.t_upstream = t;
            st.answered++;
            st.upstream_sum_us += (t - m->t_forward) / 1000;
            h.deadline = t + dmin + (dspan ? (uint64_t)(rng_unit() * (double)dspan) : 0);
            heap_push(h);
        }
    }
    fprintf(stderr, "bench-proxy: stopping (%s); %zu held replies not sent\n", why, heap_len);
    print_stats("final", t0);
    return 0;
}
