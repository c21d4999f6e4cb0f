/*
 * linux_ext_handles.c -- PSS_DETAILS_HANDLE per /proc/PID/fd entry:
 *   readlinkat(fd/N)   the kind (pipe:[..], socket:[..], anon_inode:[..], /memfd:..)
 *   fdinfo/N           flags (O_* incl. O_CLOEXEC), pos, mnt_id, ino
 *   statx(fd/N)        inode, device, mode, size, birth time
 *   /proc/PID/net/{tcp,unix,..}    socket endpoints, read once for the target's network namespace
 *   sock_diag          UNIX socket peers (only when the target shares our namespace:
 *                      a netlink socket answers for the caller's namespace)
 * An fd that disappears is skipped; an fd number reused between the fdinfo and statx
 * reads (different inodes) is read again once, then skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "linux_ext.h"

/* ---- /proc/PID/net tables ---- */

struct sock_rec {
    uint64_t ino;
    uint16_t family, type;
    uint32_t protocol;
    uint32_t state;
    uint32_t flags;
    uint16_t lport, rport;
    uint8_t laddr[16], raddr[16];
    uint32_t rxq, txq;
    uint64_t peer_ino;
    uint32_t path_off, path_len; /* into sock_table.paths */
};

struct sock_table {
    struct sock_rec *r;
    size_t n, cap;
    struct pss_buf paths;
    bool loaded;
};

static int cmp_sock_ino(const void *a, const void *b)
{
    uint64_t x = ((const struct sock_rec *)a)->ino, y = ((const struct sock_rec *)b)->ino;
    return x < y ? -1 : x > y;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *next_field(const char *p, const char *end)
{
    while (p < end && *p != ' ' && *p != '\t')
        p++;
    return skip_ws(p, end);
}

static bool hexnum(const char **pp, const char *end, uint64_t *out, int max_digits)
{
    const char *p = *pp;
    uint64_t v = 0;
    int n = 0;
    while (p < end && n < max_digits) {
        char ch = *p;
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            break;
        v = (v << 4) | d;
        n++;
        p++;
    }
    if (n == 0)
        return false;
    *pp = p;
    *out = v;
    return true;
}

static bool decnum(const char **pp, const char *end, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    int n = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p++ - '0');
        n++;
    }
    if (n == 0)
        return false;
    *pp = p;
    *out = v;
    return true;
}

/* "0100007F:1538" (IPv4) or 32 hex digits ":PORT" (IPv6): each 32-bit word is printed
 * as the host-order value of the network-order word, so storing it little-endian gives
 * the address bytes back. */
static bool parse_endpoint(const char **pp, const char *end, bool v6, uint8_t addr[16],
                           uint16_t *port)
{
    memset(addr, 0, 16);
    for (int w = 0; w < (v6 ? 4 : 1); w++) {
        uint64_t v;
        if (!hexnum(pp, end, &v, 8))
            return false;
        uint32_t x = (uint32_t)v;
        memcpy(addr + 4 * w, &x, 4);
    }
    if (*pp >= end || **pp != ':')
        return false;
    (*pp)++;
    uint64_t pt;
    if (!hexnum(pp, end, &pt, 4))
        return false;
    *port = (uint16_t)pt;
    return true;
}

static int push_rec(struct sock_table *t, const struct sock_rec *r)
{
    if (pss_grow((void **)&t->r, &t->cap, t->n + 1, sizeof *t->r) != 0)
        return -ENOMEM;
    t->r[t->n++] = *r;
    return 0;
}

/* tcp, tcp6, udp, udp6, raw, raw6, icmp, icmp6, udplite, udplite6. */
static int parse_inet(struct sock_table *t, const char *text, size_t len, uint16_t family,
                      uint16_t type, uint32_t protocol)
{
    const char *end = text + len;
    const char *line = memchr(text, '\n', len); /* skip the header */
    line = line ? line + 1 : end;
    const bool v6 = family == AF_INET6;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        const char *p = skip_ws(line, le);
        struct sock_rec r;
        memset(&r, 0, sizeof r);
        r.family = family;
        r.type = type;
        r.protocol = protocol;
        uint64_t st, tx, rx, ino;
        p = next_field(p, le); /* "sl:" */
        if (!parse_endpoint(&p, le, v6, r.laddr, &r.lport))
            goto next;
        p = skip_ws(p, le);
        if (!parse_endpoint(&p, le, v6, r.raddr, &r.rport))
            goto next;
        p = skip_ws(p, le);
        if (!hexnum(&p, le, &st, 2))
            goto next;
        p = skip_ws(p, le);
        if (!hexnum(&p, le, &tx, 8) || p >= le || *p != ':')
            goto next;
        p++;
        if (!hexnum(&p, le, &rx, 8))
            goto next;
        p = skip_ws(p, le);
        p = next_field(p, le); /* tr:tm->when */
        p = next_field(p, le); /* retrnsmt */
        p = next_field(p, le); /* uid */
        p = next_field(p, le); /* timeout */
        if (!decnum(&p, le, &ino) || ino == 0)
            goto next;
        r.ino = ino;
        r.state = (uint32_t)st;
        r.txq = (uint32_t)tx;
        r.rxq = (uint32_t)rx;
        if (type == SOCK_STREAM && st == 10 /* TCP_LISTEN */)
            r.flags |= PSS_SOCKET_LISTENING;
        if (type == SOCK_RAW)
            r.protocol = r.lport; /* raw tables print the protocol as the local port */
        if (push_rec(t, &r) != 0)
            return -ENOMEM;
    next:
        line = nl ? nl + 1 : end;
    }
    return 0;
}

/* unix: "Num RefCount Protocol Flags Type St Inode Path". */
static int parse_unix(struct sock_table *t, const char *text, size_t len)
{
    const char *end = text + len;
    const char *line = memchr(text, '\n', len);
    line = line ? line + 1 : end;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        const char *p = skip_ws(line, le);
        struct sock_rec r;
        memset(&r, 0, sizeof r);
        r.family = AF_UNIX;
        uint64_t flags, type, st, ino;
        p = next_field(p, le); /* Num: */
        p = next_field(p, le); /* RefCount */
        p = next_field(p, le); /* Protocol */
        if (!hexnum(&p, le, &flags, 8))
            goto next;
        p = skip_ws(p, le);
        if (!hexnum(&p, le, &type, 4))
            goto next;
        p = skip_ws(p, le);
        if (!hexnum(&p, le, &st, 2))
            goto next;
        p = skip_ws(p, le);
        if (!decnum(&p, le, &ino))
            goto next;
        r.ino = ino;
        r.type = (uint16_t)type;
        r.state = (uint32_t)st;
        if (flags & 0x10000u) /* __SO_ACCEPTCON */
            r.flags |= PSS_SOCKET_LISTENING;
        p = skip_ws(p, le);
        if (p < le) {
            size_t n = (size_t)(le - p);
            if (pss_buf_reserve(&t->paths, n) != 0)
                return -ENOMEM;
            r.path_off = (uint32_t)t->paths.len;
            r.path_len = (uint32_t)n;
            memcpy(t->paths.data + t->paths.len, p, n);
            t->paths.len += n;
        }
        if (push_rec(t, &r) != 0)
            return -ENOMEM;
    next:
        line = nl ? nl + 1 : end;
    }
    return 0;
}

/* netlink: "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode". */
static int parse_netlink(struct sock_table *t, const char *text, size_t len)
{
    const char *end = text + len;
    const char *line = memchr(text, '\n', len);
    line = line ? line + 1 : end;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        const char *p = skip_ws(line, le);
        struct sock_rec r;
        memset(&r, 0, sizeof r);
        r.family = AF_NETLINK;
        r.type = SOCK_RAW;
        uint64_t proto, ino = 0;
        p = next_field(p, le);
        if (decnum(&p, le, &proto)) {
            for (int i = 0; i < 7; i++)
                p = next_field(skip_ws(p, le), le);
            if (decnum(&p, le, &ino) && ino != 0) {
                r.ino = ino;
                r.protocol = (uint32_t)proto;
                if (push_rec(t, &r) != 0)
                    return -ENOMEM;
            }
        }
        line = nl ? nl + 1 : end;
    }
    return 0;
}

/* packet: "sk RefCnt Type Proto Iface R Rmem User Inode". */
static int parse_packet(struct sock_table *t, const char *text, size_t len)
{
    const char *end = text + len;
    const char *line = memchr(text, '\n', len);
    line = line ? line + 1 : end;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        const char *p = skip_ws(line, le);
        struct sock_rec r;
        memset(&r, 0, sizeof r);
        r.family = AF_PACKET;
        uint64_t type, proto, ino;
        p = next_field(p, le); /* sk */
        p = next_field(p, le); /* RefCnt */
        if (decnum(&p, le, &type)) {
            p = skip_ws(p, le);
            if (hexnum(&p, le, &proto, 4)) {
                for (int i = 0; i < 4; i++)
                    p = next_field(skip_ws(p, le), le);
                if (decnum(&p, le, &ino) && ino != 0) {
                    r.ino = ino;
                    r.type = (uint16_t)type;
                    r.protocol = (uint32_t)proto;
                    if (push_rec(t, &r) != 0)
                        return -ENOMEM;
                }
            }
        }
        line = nl ? nl + 1 : end;
    }
    return 0;
}

/* TCP peers inside the target's namespace: the entry whose endpoints are ours swapped (the
 * first such entry in table order, never the socket itself).  The stream sockets are
 * sorted by (family, local, remote, table order) and each connected one looks its swapped
 * key up by binary search: a busy host has tens of thousands of connections, and comparing
 * each with each took seconds there. */
/* a's (local, remote) endpoints against (la:lp, ra:rp); families are compared by the callers. */
static int endpoint_cmp(const struct sock_rec *a, const uint8_t *la, uint16_t lp,
                        const uint8_t *ra, uint16_t rp)
{
    int c = memcmp(a->laddr, la, 16);
    if (c != 0)
        return c;
    if (a->lport != lp)
        return a->lport < lp ? -1 : 1;
    c = memcmp(a->raddr, ra, 16);
    if (c != 0)
        return c;
    return a->rport != rp ? (a->rport < rp ? -1 : 1) : 0;
}

static int cmp_stream_endpoints(const void *x, const void *y, void *ctx)
{
    const struct sock_rec *r = ctx;
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    const struct sock_rec *a = &r[i], *b = &r[j];
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    int c = endpoint_cmp(a, b->laddr, b->lport, b->raddr, b->rport);
    if (c != 0)
        return c;
    return i < j ? -1 : i > j;
}

static bool is_inet_stream(const struct sock_rec *a)
{
    return a->type == SOCK_STREAM && (a->family == AF_INET || a->family == AF_INET6);
}

static void link_tcp_peers(struct sock_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += is_inet_stream(&t->r[i]);
    if (n < 2 || t->n > UINT32_MAX)
        return;
    uint32_t *idx = malloc(n * sizeof *idx);
    if (idx == NULL) /* best effort, like the other peer searches: no peers linked */
        return;
    n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (is_inet_stream(&t->r[i]))
            idx[n++] = (uint32_t)i;
    qsort_r(idx, n, sizeof *idx, cmp_stream_endpoints, t->r);
    for (size_t i = 0; i < t->n; i++) {
        struct sock_rec *a = &t->r[i];
        if (!is_inet_stream(a) || a->rport == 0 || (a->flags & PSS_SOCKET_LISTENING))
            continue;
        /* lower bound of (family, local = a's remote, remote = a's local) */
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const struct sock_rec *b = &t->r[idx[mid]];
            int c = b->family != a->family ? (b->family < a->family ? -1 : 1)
                                           : endpoint_cmp(b, a->raddr, a->rport, a->laddr,
                                                          a->lport);
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < n; lo++) {
            const struct sock_rec *b = &t->r[idx[lo]];
            if (b->family != a->family ||
                endpoint_cmp(b, a->raddr, a->rport, a->laddr, a->lport) != 0)
                break;
            if (idx[lo] != i) { /* equal keys are in table order: the first is the peer */
                a->peer_ino = b->ino;
                break;
            }
        }
    }
    free(idx);
}

static struct sock_rec *find_sock(const struct sock_table *t, uint64_t ino);

/* UNIX peers from sock_diag (caller's namespace). Best effort: failures leave 0. */
static void link_unix_peers(struct sock_table *t)
{
    int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (s < 0)
        return;
    struct {
        struct nlmsghdr nlh;
        struct unix_diag_req req;
    } msg;
    memset(&msg, 0, sizeof msg);
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = AF_UNIX;
    msg.req.udiag_states = 0xFFFFFFFFu;
    msg.req.udiag_show = UDIAG_SHOW_PEER;
    struct sockaddr_nl nl;
    memset(&nl, 0, sizeof nl);
    nl.nl_family = AF_NETLINK;
    if (sendto(s, &msg, sizeof msg, 0, (struct sockaddr *)&nl, sizeof nl) < 0) {
        close(s);
        return;
    }
    long buf[8192 / sizeof(long)];
    for (;;) {
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        size_t left = (size_t)n;
        for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
                goto done;
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
                continue;
            const struct unix_diag_msg *m = NLMSG_DATA(h);
            struct sock_rec *r = find_sock(t, m->udiag_ino);
            if (r == NULL || r->family != AF_UNIX)
                continue;
            size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof *m);
            const struct rtattr *a = (const struct rtattr *)(m + 1);
            for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
                if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= 4) {
                    uint32_t peer;
                    memcpy(&peer, RTA_DATA(a), 4);
                    r->peer_ino = peer;
                }
            }
        }
    }
done:
    close(s);
}

static bool same_netns(int procfd)
{
    struct stat a, b;
    if (fstatat(procfd, "ns/net", &a, 0) != 0 || stat("/proc/self/ns/net", &b) != 0)
        return false;
    return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* The /proc/PID/net tables read, in order: inet ones (parse_inet), then unix, netlink
 * and packet. */
enum { NET_UNIX = 10, NET_NETLINK, NET_PACKET, NET_FILES };
static const struct {
    const char *file;
    uint16_t family, type;
    uint32_t protocol;
} NET_FILE[NET_FILES] = {
    {"net/tcp", AF_INET, SOCK_STREAM, IPPROTO_TCP},
    {"net/tcp6", AF_INET6, SOCK_STREAM, IPPROTO_TCP},
    {"net/udp", AF_INET, SOCK_DGRAM, IPPROTO_UDP},
    {"net/udp6", AF_INET6, SOCK_DGRAM, IPPROTO_UDP},
    {"net/udplite", AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE},
    {"net/udplite6", AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE},
    {"net/raw", AF_INET, SOCK_RAW, 0},
    {"net/raw6", AF_INET6, SOCK_RAW, 0},
    {"net/icmp", AF_INET, SOCK_DGRAM, IPPROTO_ICMP},
    {"net/icmp6", AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6},
    [NET_UNIX] = {"net/unix", AF_UNIX, 0, 0},
    [NET_NETLINK] = {"net/netlink", AF_NETLINK, SOCK_RAW, 0},
    [NET_PACKET] = {"net/packet", AF_PACKET, 0, 0},
};

/* The text of NET_FILE[i] into t (the fuzz target's seam: fuzz/fuzz_net.c); -ENOMEM. */
static int parse_net_file(struct sock_table *t, size_t i, const char *text, size_t len)
{
    switch (i) {
    case NET_UNIX:
        return parse_unix(t, text, len);
    case NET_NETLINK:
        return parse_netlink(t, text, len);
    case NET_PACKET:
        return parse_packet(t, text, len);
    default:
        return parse_inet(t, text, len, NET_FILE[i].family, NET_FILE[i].type,
                          NET_FILE[i].protocol);
    }
}

/* Once every table is in: TCP peers, then sorted by inode for fill_socket's bsearch. */
static void finish_table(struct sock_table *t)
{
    link_tcp_peers(t);
    if (t->n > 1) /* t->r is NULL when no table had a socket: qsort's base must not be */
        qsort(t->r, t->n, sizeof *t->r, cmp_sock_ino);
}

/* The record of inode ino, or NULL (bsearch on an empty table, whose t->r is NULL, would
 * pass it a null base). */
static struct sock_rec *find_sock(const struct sock_table *t, uint64_t ino)
{
    if (t->n == 0)
        return NULL;
    struct sock_rec key;
    key.ino = ino;
    return bsearch(&key, t->r, t->n, sizeof *t->r, cmp_sock_ino);
}

static int load_sockets(struct lx_capture *c, struct sock_table *t)
{
    t->loaded = true;
    struct pss_buf text = {0};
    int rc = 0;
    for (size_t i = 0; i < NET_FILES && rc == 0; i++)
        if (pss_read_all(c->target.procfd, NET_FILE[i].file, &text) == 0)
            rc = parse_net_file(t, i, text.data, text.len);
    pss_buf_free(&text);
    if (rc != 0)
        return rc;
    finish_table(t);
    if (same_netns(c->target.procfd))
        link_unix_peers(t);
    return 0;
}

static void fill_socket(const struct sock_table *t, uint64_t ino, PSS_DETAILS_HANDLE *h)
{
    const struct sock_rec *r = find_sock(t, ino);
    if (r == NULL) {
        h->SocketError = ERROR_NOT_FOUND;
        return;
    }
    h->SocketError = ERROR_SUCCESS;
    h->Family = r->family;
    h->Type = r->type;
    h->Protocol = r->protocol;
    h->State = r->state;
    h->SocketFlags = r->flags;
    h->LocalPort = r->lport;
    h->RemotePort = r->rport;
    memcpy(h->LocalAddress, r->laddr, 16);
    memcpy(h->RemoteAddress, r->raddr, 16);
    h->ReceiveQueue = r->rxq;
    h->SendQueue = r->txq;
    if (r->peer_ino) {
        h->PeerInode = r->peer_ino;
        h->SocketFlags |= PSS_SOCKET_HAVE_PEER_INODE;
    }
    if (r->path_len) {
        size_t n = r->path_len < sizeof h->UnixPath - 1 ? r->path_len : sizeof h->UnixPath - 1;
        memcpy(h->UnixPath, t->paths.data + r->path_off, n);
        h->UnixPath[n] = '\0';
    }
}

/* ---- per fd ---- */

struct fdinfo_vals {
    bool ok, have_ino;
    uint64_t pos, flags, mnt_id, ino;
};

static void parse_fdinfo(const char *buf, size_t len, struct fdinfo_vals *v)
{
    const char *end = buf + len;
    const char *line = buf;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        const char *colon = memchr(line, ':', (size_t)(le - line));
        if (colon) {
            size_t k = (size_t)(colon - line);
            const char *p = skip_ws(colon + 1, le);
            uint64_t x;
            if (k == 3 && memcmp(line, "pos", 3) == 0 && decnum(&p, le, &x)) {
                v->pos = x;
            } else if (k == 5 && memcmp(line, "flags", 5) == 0) {
                uint64_t o = 0;
                while (p < le && *p >= '0' && *p <= '7')
                    o = (o << 3) | (uint64_t)(*p++ - '0');
                v->flags = o;
                v->ok = true;
            } else if (k == 6 && memcmp(line, "mnt_id", 6) == 0 && decnum(&p, le, &x)) {
                v->mnt_id = x;
            } else if (k == 3 && memcmp(line, "ino", 3) == 0 && decnum(&p, le, &x)) {
                v->ino = x;
                v->have_ino = true;
            }
        }
        line = nl ? nl + 1 : end;
    }
}

static bool starts(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static uint64_t bracket_inode(const char *link, size_t n)
{
    const char *lb = memchr(link, '[', n);
    if (lb == NULL)
        return 0;
    const char *p = lb + 1;
    uint64_t v;
    return decnum(&p, link + n, &v) ? v : 0;
}

/* 1 = filled, 0 = gone or reused (retry), -ENOMEM never here. */
static int read_fd(struct lx_capture *c, int fddir, const char *name, long fd,
                   struct sock_table *socks, PSS_DETAILS_HANDLE *h)
{
    char link[4096];
    memset(h, 0, sizeof *h);
    h->Fd = (DWORD)fd;
    ssize_t n = readlinkat(fddir, name, link, sizeof link - 1);
    if (n < 0)
        return 0;
    link[n] = '\0';

    char path[40];
    char buf[4096];
    snprintf(path, sizeof path, "fdinfo/%s", name);
    ssize_t r = pss_read_small(c->target.procfd, path, buf, sizeof buf);
    struct fdinfo_vals fi;
    memset(&fi, 0, sizeof fi);
    if (r >= 0) {
        parse_fdinfo(buf, (size_t)r, &fi);
        h->FdinfoError = fi.ok ? ERROR_SUCCESS : ERROR_INVALID_DATA;
        h->OpenFlags = (DWORD)fi.flags;
        h->Position = fi.pos;
        h->MountId = (DWORD)fi.mnt_id;
    } else if (r == -ENOENT) {
        return 0;
    } else {
        h->FdinfoError = lx_read_error((int)r);
    }

    struct statx sx;
    if (statx(fddir, name, 0, STATX_BASIC_STATS | STATX_BTIME, &sx) == 0) {
        if (fi.have_ino && fi.ino != sx.stx_ino)
            return -1; /* the number was reused between the reads */
        h->StatError = ERROR_SUCCESS;
        h->Inode = sx.stx_ino;
        h->DeviceMajor = sx.stx_dev_major;
        h->DeviceMinor = sx.stx_dev_minor;
        h->RdevMajor = sx.stx_rdev_major;
        h->RdevMinor = sx.stx_rdev_minor;
        h->Size = sx.stx_size;
        h->Mode = sx.stx_mode;
    } else if (errno == ENOENT) {
        return 0;
    } else {
        h->StatError = lx_read_error(-errno);
    }

    size_t ln = (size_t)n;
    const mode_t fmt = h->StatError == ERROR_SUCCESS ? (mode_t)(h->Mode & S_IFMT) : 0;
    if (starts(link, ln, "pipe:["))
        h->Kind = PSS_FD_KIND_PIPE;
    else if (starts(link, ln, "socket:["))
        h->Kind = PSS_FD_KIND_SOCKET;
    else if (starts(link, ln, "anon_inode:[pidfd]") || starts(link, ln, "pidfd:"))
        h->Kind = PSS_FD_KIND_PIDFD;
    else if (starts(link, ln, "anon_inode:"))
        h->Kind = PSS_FD_KIND_ANON_INODE;
    else if (starts(link, ln, "/memfd:"))
        h->Kind = PSS_FD_KIND_MEMFD;
    else if (fmt == S_IFREG)
        h->Kind = PSS_FD_KIND_FILE;
    else if (fmt == S_IFDIR)
        h->Kind = PSS_FD_KIND_DIRECTORY;
    else if (fmt == S_IFCHR)
        h->Kind = PSS_FD_KIND_CHAR_DEVICE;
    else if (fmt == S_IFBLK)
        h->Kind = PSS_FD_KIND_BLOCK_DEVICE;
    else if (fmt == S_IFIFO)
        h->Kind = PSS_FD_KIND_FIFO;
    else if (fmt == S_IFLNK)
        h->Kind = PSS_FD_KIND_SYMLINK;
    else if (fmt == S_IFSOCK)
        h->Kind = PSS_FD_KIND_SOCKET;
    else
        h->Kind = PSS_FD_KIND_UNKNOWN;

    switch (h->Kind) {
    case PSS_FD_KIND_FILE:
    case PSS_FD_KIND_DIRECTORY:
    case PSS_FD_KIND_FIFO:
    case PSS_FD_KIND_MEMFD:
        if (h->StatError == ERROR_SUCCESS && (sx.stx_mask & STATX_BTIME)) {
            h->CreationSource = PSS_CREATION_FILE_BIRTH;
            h->CreationTime = pss_filetime_from_unix_ns((int64_t)sx.stx_btime.tv_sec *
                                                            1000000000 +
                                                        sx.stx_btime.tv_nsec);
        }
        break;
    default:
        break;
    }

    h->PeerError = ERROR_NOT_FOUND;
    h->SocketError = ERROR_NOT_FOUND;
    if (h->Kind == PSS_FD_KIND_SOCKET) {
        if (!socks->loaded && load_sockets(c, socks) != 0)
            return -2;
        uint64_t ino = bracket_inode(link, ln);
        if (ino == 0)
            ino = h->Inode;
        fill_socket(socks, ino, h);
        if (h->Inode == 0)
            h->Inode = ino;
    } else if (h->Kind == PSS_FD_KIND_PIPE && h->Inode == 0) {
        h->Inode = bracket_inode(link, ln);
    }
    return 1;
}

DWORD lx_capture_handles(struct lx_capture *c)
{
    HPSSDETAILS d = c->d;
    int fddir = openat(c->target.procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fddir < 0)
        return lx_read_error(-errno);
    struct pss_dirent_iter it; /* owns fddir; readlinkat/statx use it too */
    int r = pss_dir_open(&it, fddir);
    if (r < 0)
        return pss_win32_from_errno(-r);
    struct sock_table socks;
    memset(&socks, 0, sizeof socks);
    DWORD rc = ERROR_SUCCESS;
    const char *name;
    long fd;
    while ((r = pss_dir_next_number(&it, &name, &fd)) > 0) {
        if (c->target.self && (fd == fddir || (c->target.owns_fd && fd == c->target.procfd)))
            continue; /* the capture's own descriptors */
        if (pss_grow((void **)&d->handles, &d->cap_handles, d->nhandles + 1,
                     sizeof *d->handles) != 0) {
            rc = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        int k = read_fd(c, fddir, name, fd, &socks, &d->handles[d->nhandles]);
        if (k == -1) /* reused between reads: once more */
            k = read_fd(c, fddir, name, fd, &socks, &d->handles[d->nhandles]);
        if (k == -2) {
            rc = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        if (k == 1)
            d->nhandles++;
    }
    if (r < 0 && rc == ERROR_SUCCESS)
        rc = lx_read_error(r);
    pss_dir_close(&it);
    free(socks.r);
    pss_buf_free(&socks.paths);
    return rc;
}
