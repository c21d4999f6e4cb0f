/*
 * /proc/PID/net tables and fdinfo as linux_ext_handles.c parses them: parse_net_file (tcp,
 * tcp6, udp, udp6, udplite, udplite6, raw, raw6, icmp, icmp6, unix, netlink, packet), then
 * finish_table and fill_socket; and parse_fdinfo / bracket_inode.  Those are static, so this
 * target compiles linux_ext_handles.c into itself and is linked without the library's copy.
 * The first input byte picks the table (NET_FILES and above: fdinfo), the rest is its text.
 * Checks, tables: every record of the table's family, a UNIX path inside the path pool,
 * records sorted by inode, every TCP peer a record whose endpoints are the reverse, each
 * record found again by fill_socket (UnixPath terminated), an absent inode not found; and
 * for the inet tables a round trip: the records printed back in the kernel's format parse to
 * the same records.  fdinfo: the values parsed, printed back, parse to the same values.
 */
#include "../src/linux_ext_handles.c"

#include <inttypes.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_inet_round_trip(const struct sock_table *t, size_t file)
{
    const bool v6 = NET_FILE[file].family == AF_INET6;
    struct pss_buf text = {0};
    char line[256];
    int k = snprintf(line, sizeof line, "  sl  local_address rem_address   st ...\n");
    if (pss_buf_reserve(&text, (size_t)k) != 0)
        abort();
    memcpy(text.data, line, (size_t)k);
    text.len = (size_t)k;
    for (size_t i = 0; i < t->n; i++) {
        const struct sock_rec *r = &t->r[i];
        char a[2][33];
        for (int e = 0; e < 2; e++) {
            const uint8_t *addr = e == 0 ? r->laddr : r->raddr;
            a[e][0] = '\0';
            for (int w = 0; w < (v6 ? 4 : 1); w++) {
                uint32_t x;
                memcpy(&x, addr + 4 * w, 4);
                snprintf(a[e] + 8 * w, 9, "%08" PRIX32, x);
            }
        }
        /* raw tables print the protocol as the local port */
        unsigned lport = NET_FILE[file].type == SOCK_RAW ? r->protocol : r->lport;
        k = snprintf(line, sizeof line,
                     "%4zu: %s:%04X %s:%04X %02" PRIX32 " %08" PRIX32 ":%08" PRIX32
                     " 00:00000000 00000000     0        0 %" PRIu64 " 1 0000000000000000\n",
                     i, a[0], lport, a[1], r->rport, r->state, r->txq, r->rxq, r->ino);
        FUZZ_CHECK(k > 0 && (size_t)k < sizeof line);
        if (pss_buf_reserve(&text, (size_t)k) != 0)
            abort();
        memcpy(text.data + text.len, line, (size_t)k);
        text.len += (size_t)k;
    }
    struct sock_table u;
    memset(&u, 0, sizeof u);
    FUZZ_CHECK(parse_net_file(&u, file, text.data, text.len) == 0);
    FUZZ_CHECK(u.n == t->n);
    for (size_t i = 0; i < t->n; i++)
        FUZZ_CHECK(memcmp(&u.r[i], &t->r[i], sizeof u.r[i]) == 0);
    free(u.r);
    pss_buf_free(&u.paths);
    pss_buf_free(&text);
}

static void fuzz_table(size_t file, const char *text, size_t len)
{
    struct sock_table t;
    memset(&t, 0, sizeof t);
    FUZZ_CHECK(parse_net_file(&t, file, text, len) == 0);
    FUZZ_CHECK(t.n <= len / 2 + 1); /* one record per line at most */
    for (size_t i = 0; i < t.n; i++) {
        const struct sock_rec *r = &t.r[i];
        FUZZ_CHECK(r->family == NET_FILE[file].family);
        FUZZ_CHECK(file == NET_UNIX || r->ino != 0);
        FUZZ_CHECK(r->path_len == 0 || file == NET_UNIX);
        FUZZ_CHECK((uint64_t)r->path_off + r->path_len <= t.paths.len);
        FUZZ_CHECK(r->peer_ino == 0);
    }
    if (file < NET_UNIX)
        check_inet_round_trip(&t, file);

    finish_table(&t);
    uint64_t max_ino = 0;
    for (size_t i = 0; i < t.n; i++) {
        const struct sock_rec *r = &t.r[i];
        FUZZ_CHECK(i == 0 || t.r[i - 1].ino <= r->ino);
        if (r->ino > max_ino)
            max_ino = r->ino;
        if (r->peer_ino != 0) {
            bool found = false;
            for (size_t j = 0; j < t.n && !found; j++)
                found = j != i && t.r[j].ino == r->peer_ino && t.r[j].lport == r->rport &&
                        t.r[j].rport == r->lport && t.r[j].type == SOCK_STREAM &&
                        memcmp(t.r[j].laddr, r->raddr, 16) == 0;
            FUZZ_CHECK(found);
        }
        PSS_DETAILS_HANDLE h;
        memset(&h, 0x5a, sizeof h);
        fill_socket(&t, r->ino, &h);
        FUZZ_CHECK(h.SocketError == ERROR_SUCCESS && h.Family == r->family);
        const struct sock_rec *f = find_sock(&t, r->ino); /* r or one of its inode */
        FUZZ_CHECK(f != NULL && f->ino == r->ino);
        if (f->path_len != 0) {
            const char *z = memchr(h.UnixPath, '\0', sizeof h.UnixPath);
            FUZZ_CHECK(z != NULL);
            size_t n = (size_t)(z - h.UnixPath);
            FUZZ_CHECK(n <= f->path_len && memcmp(h.UnixPath, t.paths.data + f->path_off, n) == 0);
        }
    }
    if (max_ino < UINT64_MAX) {
        PSS_DETAILS_HANDLE h;
        memset(&h, 0, sizeof h);
        fill_socket(&t, max_ino + 1, &h);
        FUZZ_CHECK(h.SocketError == ERROR_NOT_FOUND);
    }
    free(t.r);
    pss_buf_free(&t.paths);
}

static void fuzz_fdinfo(const char *text, size_t len)
{
    struct fdinfo_vals v;
    memset(&v, 0, sizeof v);
    parse_fdinfo(text, len, &v);
    char out[256];
    int k = snprintf(out, sizeof out,
                     "pos:\t%" PRIu64 "\nflags:\t0%" PRIo64 "\nmnt_id:\t%" PRIu64
                     "\nino:\t%" PRIu64 "\n",
                     v.pos, v.flags, v.mnt_id, v.ino);
    FUZZ_CHECK(k > 0 && (size_t)k < sizeof out);
    struct fdinfo_vals w;
    memset(&w, 0, sizeof w);
    parse_fdinfo(out, (size_t)k, &w);
    FUZZ_CHECK(w.ok && w.have_ino && w.pos == v.pos && w.flags == v.flags &&
               w.mnt_id == v.mnt_id && w.ino == v.ino);
    (void)bracket_inode(text, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t sel = data[0];
    /* An exactly-sized copy, as ASan then catches a read one past the text. */
    size_t len = size - 1;
    char *text = malloc(len ? len : 1);
    if (text == NULL)
        abort();
    memcpy(text, data + 1, len);
    if (sel < NET_FILES)
        fuzz_table(sel, text, len);
    else
        fuzz_fdinfo(text, len);
    free(text);
    return 0;
}
