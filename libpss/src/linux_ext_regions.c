/*
 * linux_ext_regions.c -- PSS_DETAILS_REGION per VMA: the kind (VMMap's classification)
 * and, with PSS_DETAILS_REGION_USAGE, the smaps counters; then smaps_rollup.
 *
 * maps (or smaps) is read in 256 KiB chunks (small enough to stay in cache between the
 * kernel's copy and the parse) and parsed as it streams, never held whole
 * (smaps of 200,000 VMAs is ~150 MB of text); smaps is read on a helper thread while
 * this one parses (see "smaps, read on a helper thread" below).  Header lines start with a lowercase hex
 * digit, field lines with an uppercase letter, so one byte tells them apart.  As in
 * maps.c, a VMA whose start is below the previous end is a duplicate the kernel printed
 * across a page boundary of its generator: it is dropped with its field lines.
 *
 * Kinds, in order:
 *   [heap] -> HEAP; [stack] -> STACK (main thread); [vdso] -> IMAGE;
 *   [vvar], [vvar_vclock], [vsyscall], [uprobes] -> KERNEL
 *   VMAs of a loaded ELF image and its .bss tail (linux_ext_modules.c) -> IMAGE
 *   shared mappings of /dev/zero, SysV, /dev/shm, memfd, [anon_shmem:] -> SHARED
 *   other file mappings -> MAPPED
 *   anonymous memory holding a thread's stack pointer -> STACK (that thread); the ---p
 *   VMA right below it is its guard -> STACK | GUARD
 *   a glibc malloc arena heap: an anonymous rw VMA starting on a 64 MiB boundary whose
 *   heap_info header (32 bytes read with process_vm_readv when we may, and only from a
 *   resident page) is consistent, or, when we may not read it, whose rw part and ---p
 *   tail make exactly 64 MiB -> HEAP | ARENA (and ARENA_VERIFIED when read); its ---p
 *   tail -> HEAP | ARENA | GUARD
 *   other anonymous ---p -> RESERVED; anything else -> PRIVATE
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "linux_ext.h"

#define CHUNK (1u << 18)
#define ARENA_HEAP_MAX (UINT64_C(64) << 20) /* glibc HEAP_MAX_SIZE on 64-bit */

static const size_t MEM_OFFSETS[20] = {
    offsetof(PSS_DETAILS_MEMORY, Rss),           offsetof(PSS_DETAILS_MEMORY, Pss),
    offsetof(PSS_DETAILS_MEMORY, PssDirty),      offsetof(PSS_DETAILS_MEMORY, PssAnon),
    offsetof(PSS_DETAILS_MEMORY, PssFile),       offsetof(PSS_DETAILS_MEMORY, PssShmem),
    offsetof(PSS_DETAILS_MEMORY, SharedClean),   offsetof(PSS_DETAILS_MEMORY, SharedDirty),
    offsetof(PSS_DETAILS_MEMORY, PrivateClean),  offsetof(PSS_DETAILS_MEMORY, PrivateDirty),
    offsetof(PSS_DETAILS_MEMORY, Referenced),    offsetof(PSS_DETAILS_MEMORY, Anonymous),
    offsetof(PSS_DETAILS_MEMORY, LazyFree),      offsetof(PSS_DETAILS_MEMORY, AnonHugePages),
    offsetof(PSS_DETAILS_MEMORY, ShmemPmdMapped), offsetof(PSS_DETAILS_MEMORY, SharedHugetlb),
    offsetof(PSS_DETAILS_MEMORY, PrivateHugetlb), offsetof(PSS_DETAILS_MEMORY, Swap),
    offsetof(PSS_DETAILS_MEMORY, SwapPss),       offsetof(PSS_DETAILS_MEMORY, Locked),
};

#define FIELD_VMFLAGS 100

/* The smaps key [k, k+n) -> counter index, FIELD_VMFLAGS, or -1 (ignored). */
static int field_index(const char *k, size_t n)
{
#define IS(s) (memcmp(k, s, sizeof(s) - 1) == 0) /* n already matched: constant length */
    switch (n) {
    case 3:
        return IS("Rss") ? 0 : IS("Pss") ? 1 : -1;
    case 4:
        return IS("Swap") ? 17 : -1;
    case 6:
        return IS("Locked") ? 19 : -1;
    case 7:
        return IS("SwapPss") ? 18 : IS("VmFlags") ? FIELD_VMFLAGS : -1;
    case 8:
        return IS("Pss_Anon") ? 3 : IS("Pss_File") ? 4 : IS("LazyFree") ? 12 : -1;
    case 9:
        return IS("Pss_Dirty") ? 2 : IS("Pss_Shmem") ? 5 : IS("Anonymous") ? 11 : -1;
    case 10:
        return IS("Referenced") ? 10 : -1;
    case 12:
        return IS("Shared_Clean") ? 6 : IS("Shared_Dirty") ? 7 : -1;
    case 13:
        return IS("Private_Clean") ? 8 : IS("Private_Dirty") ? 9 : IS("AnonHugePages") ? 13 : -1;
    case 14:
        return IS("ShmemPmdMapped") ? 14 : IS("Shared_Hugetlb") ? 15 : -1;
    case 15:
        return IS("Private_Hugetlb") ? 16 : -1;
    default:
        return -1;
    }
#undef IS
}

static DWORD vmflags_of(const char *p, const char *end)
{
    static const struct {
        char a, b;
        DWORD bit;
    } codes[] = {
        {'r', 'd', PSS_VMFLAG_RD}, {'w', 'r', PSS_VMFLAG_WR}, {'e', 'x', PSS_VMFLAG_EX},
        {'s', 'h', PSS_VMFLAG_SH}, {'g', 'd', PSS_VMFLAG_GD}, {'l', 'o', PSS_VMFLAG_LO},
        {'i', 'o', PSS_VMFLAG_IO}, {'d', 'c', PSS_VMFLAG_DC}, {'d', 'd', PSS_VMFLAG_DD},
        {'h', 't', PSS_VMFLAG_HT}, {'n', 'r', PSS_VMFLAG_NR}, {'a', 'c', PSS_VMFLAG_AC},
        {'h', 'g', PSS_VMFLAG_HG}, {'n', 'h', PSS_VMFLAG_NH}, {'m', 'g', PSS_VMFLAG_MG},
        {'u', 'w', PSS_VMFLAG_UW}, {'s', 'd', PSS_VMFLAG_SD}, {'w', 'f', PSS_VMFLAG_WF},
        {'s', 's', PSS_VMFLAG_SS}, {'s', 'l', PSS_VMFLAG_SL},
    };
    DWORD v = 0;
    while (p + 1 < end) {
        if (p[0] != ' ' && p[1] != ' ') {
            for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
                if (codes[i].a == p[0] && codes[i].b == p[1]) {
                    v |= codes[i].bit;
                    break;
                }
            p += 2;
        } else {
            p++;
        }
    }
    return v;
}

static inline unsigned hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return (unsigned)(ch - '0');
    if (ch >= 'a' && ch <= 'f')
        return (unsigned)(ch - 'a' + 10);
    if (ch >= 'A' && ch <= 'F')
        return (unsigned)(ch - 'A' + 10);
    return 16;
}

static bool hex_until(const char **pp, const char *end, char stop, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    int n = 0;
    unsigned d;
    while (p < end && (d = hexval(*p)) < 16) {
        if (++n > 16)
            return false;
        v = (v << 4) | d;
        p++;
    }
    if (n == 0 || p >= end || *p != stop)
        return false;
    *pp = p + 1;
    *out = v;
    return true;
}

struct parse_state {
    struct lx_capture *c;
    bool usage;
    struct lx_vma *vma;
    size_t nvma, capvma;
    struct pss_buf names; /* file names, NUL-separated */
    uint32_t last_name_off, last_name_len;
    uint64_t prev_end;
    PSS_DETAILS_MEMORY *cur; /* the counters field lines go to; NULL = dropped VMA */
    PSS_DETAILS_REGION *cur_region;
};

static uint8_t name_kind(const char *n, size_t len)
{
    if (len == 0)
        return LX_NAME_ANON;
    if (n[0] != '[')
        return LX_NAME_FILE;
#define NAMED(s) (len == sizeof(s) - 1 && memcmp(n, s, len) == 0)
    if (NAMED("[heap]"))
        return LX_NAME_HEAP;
    if (NAMED("[stack]"))
        return LX_NAME_STACK;
    if (NAMED("[vdso]"))
        return LX_NAME_VDSO;
    if (NAMED("[vvar]") || NAMED("[vvar_vclock]") || NAMED("[vsyscall]") || NAMED("[uprobes]"))
        return LX_NAME_KERNEL;
#undef NAMED
    if (len > 6 && memcmp(n, "[anon:", 6) == 0)
        return LX_NAME_ANON_NAMED;
    if (len > 12 && memcmp(n, "[anon_shmem:", 12) == 0)
        return LX_NAME_ANON_SHMEM;
    return LX_NAME_OTHER;
}

/* "start-end perms offset maj:min inode   name" */
static DWORD header_line(struct parse_state *ps, const char *p, const char *end)
{
    struct lx_vma v;
    memset(&v, 0, sizeof v);
    uint64_t maj, min;
    if (!hex_until(&p, end, '-', &v.start) || !hex_until(&p, end, ' ', &v.end) ||
        end - p < 5)
        return ERROR_INVALID_DATA;
    v.r = p[0] == 'r';
    v.w = p[1] == 'w';
    v.x = p[2] == 'x';
    v.shared = p[3] == 's';
    p += 5;
    if (!hex_until(&p, end, ' ', &v.offset) || !hex_until(&p, end, ':', &maj) ||
        !hex_until(&p, end, ' ', &min))
        return ERROR_INVALID_DATA;
    uint64_t ino = 0;
    while (p < end && *p >= '0' && *p <= '9')
        ino = ino * 10 + (uint64_t)(*p++ - '0');
    v.ino = ino;
    v.dev_major = (uint32_t)maj;
    v.dev_minor = (uint32_t)min;
    while (p < end && *p == ' ')
        p++;
    size_t nlen = (size_t)(end - p);
    v.name_kind = name_kind(p, nlen);
    if (v.end <= v.start)
        return ERROR_INVALID_DATA;
    if (v.start < ps->prev_end) {
        ps->cur = NULL; /* a repeat across a generator page: drop with its fields */
        ps->cur_region = NULL;
        return ERROR_SUCCESS;
    }
    ps->prev_end = v.end;
    if (nlen > 0) {
        if (ps->last_name_len == nlen &&
            memcmp(ps->names.data + ps->last_name_off, p, nlen) == 0) {
            v.name_off = ps->last_name_off;
        } else {
            if (nlen > UINT32_MAX - 1 || ps->names.len + nlen + 1 > UINT32_MAX ||
                pss_buf_reserve(&ps->names, nlen + 1) != 0)
                return ERROR_NOT_ENOUGH_MEMORY;
            v.name_off = (uint32_t)ps->names.len;
            memcpy(ps->names.data + ps->names.len, p, nlen);
            ps->names.data[ps->names.len + nlen] = '\0';
            ps->names.len += nlen + 1;
            ps->last_name_off = v.name_off;
            ps->last_name_len = (uint32_t)nlen;
        }
        v.name_len = (uint32_t)nlen;
    }
    HPSSDETAILS d = ps->c->d;
    if (pss_grow((void **)&ps->vma, &ps->capvma, ps->nvma + 1, sizeof *ps->vma) != 0 ||
        pss_grow((void **)&d->regions, &d->cap_regions, d->nregions + 1, sizeof *d->regions) !=
            0)
        return ERROR_NOT_ENOUGH_MEMORY;
    ps->vma[ps->nvma++] = v;
    PSS_DETAILS_REGION *r = &d->regions[d->nregions++];
    memset(r, 0, sizeof *r);
    r->BaseAddress = v.start;
    r->EndAddress = v.end;
    if (ps->usage)
        r->KindFlags = PSS_REGION_HAVE_USAGE;
    ps->cur = &r->Usage;
    ps->cur_region = r;
    return ERROR_SUCCESS;
}

/* The value after "Key:" at p: "   123 kB" into counter i of m (bytes).  Returns where
 * the line's newline is (or end). */
static const char *field_value(PSS_DETAILS_MEMORY *m, int i, const char *p, const char *end)
{
    while (p < end && *p == ' ')
        p++;
    uint64_t v = 0;
    const char *digits = p;
    while (p < end && (unsigned)(*p - '0') < 10u)
        v = v * 10 + (uint64_t)(*p++ - '0');
    if (p != digits) {
        *(ULONGLONG *)(void *)((char *)m + MEM_OFFSETS[i]) = v * 1024u;
        m->Present |= 1u << i;
    }
    if (end - p >= 4 && memcmp(p, " kB\n", 4) == 0)
        return p + 3;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

/* The kernel prints counters as a key padded to 16 columns and the value in kB right-
 * aligned in 8 ("Rss:                 128 kB\n", 28 bytes).  For such a line the first 8
 * bytes (key and padding) name the counter: compared as one 64-bit word.  Returns the
 * counter index, -1 for a key we ignore, -2 when not recognised (the general path decides). */
#define W8(a, b, c, d, e, f, g, h)                                                        \
    ((uint64_t)(uint8_t)(a) | (uint64_t)(uint8_t)(b) << 8 | (uint64_t)(uint8_t)(c) << 16 |  \
     (uint64_t)(uint8_t)(d) << 24 | (uint64_t)(uint8_t)(e) << 32 |                         \
     (uint64_t)(uint8_t)(f) << 40 | (uint64_t)(uint8_t)(g) << 48 | (uint64_t)(uint8_t)(h) << 56)

static int fixed_key(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8); /* little-endian x86-64 */
    switch (w) {
    case W8('R', 's', 's', ':', ' ', ' ', ' ', ' '): return 0;
    case W8('P', 's', 's', ':', ' ', ' ', ' ', ' '): return 1;
    case W8('P', 's', 's', '_', 'D', 'i', 'r', 't'): return 2;
    case W8('P', 's', 's', '_', 'A', 'n', 'o', 'n'): return 3;
    case W8('P', 's', 's', '_', 'F', 'i', 'l', 'e'): return 4;
    case W8('P', 's', 's', '_', 'S', 'h', 'm', 'e'): return 5;
    case W8('S', 'h', 'a', 'r', 'e', 'd', '_', 'C'): return 6;
    case W8('S', 'h', 'a', 'r', 'e', 'd', '_', 'D'): return 7;
    case W8('S', 'h', 'a', 'r', 'e', 'd', '_', 'H'): return 15;
    case W8('P', 'r', 'i', 'v', 'a', 't', 'e', '_'):
        return p[8] == 'C' ? 8 : p[8] == 'D' ? 9 : p[8] == 'H' ? 16 : -2;
    case W8('R', 'e', 'f', 'e', 'r', 'e', 'n', 'c'): return 10;
    case W8('A', 'n', 'o', 'n', 'y', 'm', 'o', 'u'): return 11;
    case W8('L', 'a', 'z', 'y', 'F', 'r', 'e', 'e'): return 12;
    case W8('A', 'n', 'o', 'n', 'H', 'u', 'g', 'e'): return 13;
    case W8('S', 'h', 'm', 'e', 'm', 'P', 'm', 'd'): return 14;
    case W8('S', 'w', 'a', 'p', ':', ' ', ' ', ' '): return 17;
    case W8('S', 'w', 'a', 'p', 'P', 's', 's', ':'): return 18;
    case W8('L', 'o', 'c', 'k', 'e', 'd', ':', ' '): return 19;
    case W8('S', 'i', 'z', 'e', ':', ' ', ' ', ' '):
    case W8('K', 'e', 'r', 'n', 'e', 'l', 'P', 'a'):
    case W8('M', 'M', 'U', 'P', 'a', 'g', 'e', 'S'):
    case W8('K', 'S', 'M', ':', ' ', ' ', ' ', ' '):
    case W8('F', 'i', 'l', 'e', 'P', 'm', 'd', 'M'):
        return -1;
    default:
        return -2;
    }
}
#undef W8

/* One field line at p (an uppercase letter): "Key:   123 kB" or "VmFlags: rd wr ...".
 * m == NULL: only find the end.  Returns the position of the line's newline (or end). */
static const char *field_line(PSS_DETAILS_MEMORY *m, DWORD *vmflags, const char *p,
                              const char *end)
{
    if (end - p >= 28 && p[27] == '\n' && p[24] == ' ' && p[25] == 'k' && p[26] == 'B' &&
        (unsigned)(p[23] - '0') < 10u) {
        if (m == NULL)
            return p + 27;
        int i = fixed_key(p);
        if (i == -1)
            return p + 27;
        if (i >= 0) {
            const char *q = p + 23;
            while (q > p + 16 && (unsigned)(q[-1] - '0') < 10u)
                q--;
            uint64_t v = 0;
            for (; q < p + 24; q++)
                v = v * 10 + (uint64_t)(*q - '0');
            *(ULONGLONG *)(void *)((char *)m + MEM_OFFSETS[i]) = v * 1024u;
            m->Present |= 1u << i;
            return p + 27;
        }
    }
    const char *q = p;
    while (q < end && *q != ':' && *q != '\n')
        q++;
    if (q >= end || *q == '\n' || m == NULL) {
        const char *nl = q < end && *q == '\n' ? q : memchr(q, '\n', (size_t)(end - q));
        return nl ? nl : end;
    }
    int i = field_index(p, (size_t)(q - p));
    if (i >= 0 && i < FIELD_VMFLAGS)
        return field_value(m, i, q + 1, end);
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    const char *le = nl ? nl : end;
    if (i == FIELD_VMFLAGS && vmflags)
        *vmflags = vmflags_of(q + 1, le);
    return le;
}

static DWORD parse_text(struct parse_state *ps, const char *p, const char *end)
{
    while (p < end) {
        char ch = *p;
        const char *le;
        if (ch >= 'A' && ch <= 'Z') {
            le = field_line(ps->cur, ps->cur ? &ps->cur_region->VmFlags : NULL, p, end);
        } else {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            le = nl ? nl : end;
            if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) {
                DWORD rc = header_line(ps, p, le);
                if (rc != ERROR_SUCCESS)
                    return rc;
            }
        }
        p = le < end ? le + 1 : end;
    }
    return ERROR_SUCCESS;
}

/* Streams fd through parse_text, reading chunk bytes at a time (the fuzz target's seam:
 * fuzz/fuzz_regions.c); *bytes receives the size read. */
static DWORD stream_parse(struct parse_state *ps, int fd, size_t chunk, uint64_t *bytes)
{
    char *buf = malloc(chunk + 1);
    if (buf == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    size_t have = 0; /* bytes of an unfinished line kept at the start of buf */
    DWORD rc = ERROR_SUCCESS;
    *bytes = 0;
    for (;;) {
        if (have == chunk) { /* a single line longer than the buffer */
            rc = ERROR_INVALID_DATA;
            break;
        }
        ssize_t r = read(fd, buf + have, chunk - have);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = lx_read_error(-errno);
            break;
        }
        if (r == 0) {
            if (have > 0)
                rc = parse_text(ps, buf, buf + have);
            break;
        }
        *bytes += (uint64_t)r;
        size_t len = have + (size_t)r;
        const char *last_nl = memrchr(buf, '\n', len);
        size_t whole = last_nl ? (size_t)(last_nl - buf) + 1 : 0;
        rc = parse_text(ps, buf, buf + whole);
        if (rc != ERROR_SUCCESS)
            break;
        have = len - whole;
        memmove(buf, buf + whole, have);
    }
    free(buf);
    return rc;
}

static DWORD parse_rollup(PSS_DETAILS_MEMORY *m, const char *text, size_t len)
{
    memset(m, 0, sizeof *m);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *le;
        if (*p >= 'A' && *p <= 'Z') {
            le = field_line(m, NULL, p, end);
        } else {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            le = nl ? nl : end;
        }
        p = le < end ? le + 1 : end;
    }
    return m->Present ? ERROR_SUCCESS : ERROR_INVALID_DATA;
}

/* ---- smaps, read on a helper thread while this one parses ----
 *
 * The kernel's generation of smaps text (the floor: a plain read of the file) and our parse
 * of it are about 3:1; done one after the other they add up, done as a pipeline the capture
 * takes about as long as the read.  The reader fills NBUF buffers of CHUNK bytes in turn:
 * each starts with the unfinished last line of the one before (copied from it: the parser
 * only ever reads up to that buffer's last newline, and nobody writes a published buffer,
 * so both threads only read those bytes) and is published with the length of its whole
 * lines.  After smaps it reads smaps_rollup, so that read overlaps the parse's tail.  The
 * reader blocks every signal (they stay with the caller's threads) and never outlives the
 * call: the parser always joins it, also when the parse fails (it then asks the reader to
 * stop at its next buffer).  If the thread cannot be created, the file is read on the
 * calling thread as before (stream_parse). */

#define NBUF 4
#define READ_ROOM 8192 /* fill a buffer until less than this is left */

struct smaps_pipe {
    int fd, procfd;
    size_t chunk, room; /* buffer size; fill a buffer until less than room is left */
    bool want_rollup;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *buf[NBUF];
    size_t whole[NBUF]; /* bytes of buffer k the parser may read: whole lines only */
    uint64_t published; /* buffers published so far (buffer k = index % NBUF) */
    uint64_t consumed;  /* buffers the parser is done with */
    bool done;          /* no buffer will follow; rc says how the read ended */
    bool stop;          /* the parser failed: the reader stops */
    DWORD rc;
    uint64_t bytes;
    /* smaps_rollup, read after smaps succeeded */
    bool rollup_read;
    PSS_DETAILS_MEMORY rollup;
    DWORD rollup_rc;
    uint64_t rollup_ns;
};

static DWORD read_rollup_into(int procfd, PSS_DETAILS_MEMORY *m)
{
    struct pss_buf text = {0};
    int r = pss_read_all(procfd, "smaps_rollup", &text);
    if (r < 0) {
        pss_buf_free(&text);
        return r == -ENOENT ? ERROR_NOT_SUPPORTED : lx_read_error(r);
    }
    DWORD rc = parse_rollup(m, text.data, text.len);
    pss_buf_free(&text);
    return rc;
}

static void *smaps_reader(void *arg)
{
    struct smaps_pipe *sp = arg;
    size_t have = 0; /* unfinished line at the start of the buffer being filled */
    DWORD rc = ERROR_SUCCESS;
    for (uint64_t k = 0;; k++) {
        char *b = sp->buf[k % NBUF];
        pthread_mutex_lock(&sp->mu);
        while (k - sp->consumed >= NBUF && !sp->stop) /* buffer k is still the parser's */
            pthread_cond_wait(&sp->cv, &sp->mu);
        bool stop = sp->stop;
        pthread_mutex_unlock(&sp->mu);
        if (stop)
            break;
        if (k > 0 && have > 0) {
            const char *prev = sp->buf[(k - 1) % NBUF];
            memcpy(b, prev + sp->whole[(k - 1) % NBUF], have);
        }
        if (have == sp->chunk) { /* a single line longer than the buffer */
            rc = ERROR_INVALID_DATA;
            break;
        }
        /* A read of a seq_file returns at most a page: fill the buffer with many, so a
         * hand-over to the parser moves CHUNK bytes, not 4 KiB. */
        size_t len = have;
        ssize_t r;
        do {
            r = read(sp->fd, b + len, sp->chunk - len);
            if (r > 0)
                len += (size_t)r;
        } while ((r > 0 && sp->chunk - len >= sp->room) || (r < 0 && errno == EINTR));
        if (r < 0) {
            rc = lx_read_error(-errno);
            break;
        }
        sp->bytes += len - have;
        size_t whole;
        if (r == 0) {
            whole = len; /* the last line, without its newline */
        } else {
            const char *last_nl = memrchr(b, '\n', len);
            whole = last_nl ? (size_t)(last_nl - b) + 1 : 0;
        }
        sp->whole[k % NBUF] = whole;
        have = len - whole;
        pthread_mutex_lock(&sp->mu);
        sp->published = k + 1;
        pthread_cond_broadcast(&sp->cv);
        pthread_mutex_unlock(&sp->mu);
        if (r == 0)
            break;
    }
    if (rc == ERROR_SUCCESS) {
        pthread_mutex_lock(&sp->mu);
        bool stop = sp->stop;
        pthread_mutex_unlock(&sp->mu);
        if (!stop && sp->want_rollup) {
            uint64_t t = pss_monotonic_ns();
            sp->rollup_rc = read_rollup_into(sp->procfd, &sp->rollup);
            sp->rollup_ns = pss_monotonic_ns() - t;
            sp->rollup_read = true;
        }
    }
    pthread_mutex_lock(&sp->mu);
    sp->rc = rc;
    sp->done = true;
    pthread_cond_broadcast(&sp->cv);
    pthread_mutex_unlock(&sp->mu);
    return NULL;
}

/* Parses the buffers sp's reader publishes (sp->fd read sp->chunk bytes per buffer), in
 * order, until it is done; *ok is false when the reader thread could not be started
 * (nothing was read).  The fuzz target's seam too (fuzz/fuzz_regions.c: small buffers, so
 * lines split at buffer ends and the ring wraps). */
static DWORD pipe_parse(struct parse_state *ps, struct smaps_pipe *sp, bool *ok)
{
    *ok = false;
    char *mem = malloc((size_t)NBUF * sp->chunk);
    if (mem == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    for (int i = 0; i < NBUF; i++)
        sp->buf[i] = mem + (size_t)i * sp->chunk;
    if (pthread_mutex_init(&sp->mu, NULL) != 0) {
        free(mem);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    if (pthread_cond_init(&sp->cv, NULL) != 0) {
        pthread_mutex_destroy(&sp->mu);
        free(mem);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t th;
    bool started = pthread_create(&th, NULL, smaps_reader, sp) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    DWORD rc = ERROR_SUCCESS;
    if (started) {
        *ok = true;
        for (uint64_t k = 0;; k++) {
            pthread_mutex_lock(&sp->mu);
            while (sp->published <= k && !sp->done)
                pthread_cond_wait(&sp->cv, &sp->mu);
            bool have = sp->published > k;
            pthread_mutex_unlock(&sp->mu);
            if (!have)
                break;
            const char *b = sp->buf[k % NBUF];
            rc = parse_text(ps, b, b + sp->whole[k % NBUF]);
            pthread_mutex_lock(&sp->mu);
            sp->consumed = k + 1;
            if (rc != ERROR_SUCCESS)
                sp->stop = true;
            pthread_cond_broadcast(&sp->cv);
            pthread_mutex_unlock(&sp->mu);
            if (rc != ERROR_SUCCESS)
                break;
        }
        pthread_join(th, NULL);
        if (rc == ERROR_SUCCESS)
            rc = sp->rc;
    }
    pthread_cond_destroy(&sp->cv);
    pthread_mutex_destroy(&sp->mu);
    free(mem);
    return rc;
}

/* Reads and parses maps (on this thread) or smaps (pipelined, with smaps_rollup read by
 * the reader; *sp receives that). */
static DWORD read_and_parse(struct parse_state *ps, const char *file, uint64_t *bytes,
                            struct smaps_pipe *sp)
{
    int fd;
    do {
        fd = openat(ps->c->target.procfd, file, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return lx_read_error(-errno);
    DWORD rc;
    bool piped = false;
    if (sp != NULL) {
        sp->fd = fd;
        sp->procfd = ps->c->target.procfd;
        sp->chunk = CHUNK;
        sp->room = READ_ROOM;
        sp->want_rollup = true;
        rc = pipe_parse(ps, sp, &piped);
        *bytes = sp->bytes;
    }
    if (!piped)
        rc = stream_parse(ps, fd, CHUNK, bytes);
    close(fd);
    return rc;
}

static int cmp_sp(const void *a, const void *b)
{
    uint64_t x = ((const struct lx_sp *)a)->sp, y = ((const struct lx_sp *)b)->sp;
    return x < y ? -1 : x > y;
}

/* A thread whose stack pointer lies in [start, end), or 0. */
static uint32_t sp_owner(const struct lx_capture *c, uint64_t start, uint64_t end)
{
    size_t lo = 0, hi = c->nsps;
    while (lo < hi) { /* first sp >= start */
        size_t mid = lo + (hi - lo) / 2;
        if (c->sps[mid].sp < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nsps && c->sps[lo].sp < end ? c->sps[lo].tid : 0;
}

static bool shmem_name(const struct lx_vma *v, const char *names)
{
    if (v->name_kind == LX_NAME_ANON_SHMEM)
        return true;
    if (v->name_kind != LX_NAME_FILE)
        return false;
    const char *n = names + v->name_off;
    return strncmp(n, "/dev/zero", 9) == 0 || strncmp(n, "/SYSV", 5) == 0 ||
           strncmp(n, "/dev/shm/", 9) == 0 || strncmp(n, "/memfd:", 7) == 0;
}

/* heap_info of a glibc arena heap at start: { ar_ptr, prev, size, mprotect_size }.
 * 1 = an arena heap, 0 = not one, -1 = cannot tell (decide by the layout).  The page is
 * read only if pagemap says it is resident, so that looking never faults a page in (which
 * would change the target's Rss); an absent page cannot hold a heap_info, a swapped one
 * is not read. */
static int arena_check(const struct lx_capture *c, int pagemap, const struct lx_vma *v)
{
    const uint64_t psz = (uint64_t)(c->clock.page_size > 0 ? c->clock.page_size : 4096);
    uint64_t pm;
    if (pagemap < 0 ||
        pread(pagemap, &pm, sizeof pm, (off_t)(v->start / psz * sizeof pm)) != sizeof pm)
        return -1;
    if (pm & (UINT64_C(1) << 62))
        return -1; /* swapped out */
    if (!(pm & (UINT64_C(1) << 63)))
        return 0; /* never touched: no heap_info there */
    uint64_t h[4];
    struct iovec local = {h, sizeof h};
    struct iovec remote = {(void *)(uintptr_t)v->start, sizeof h};
    ssize_t n = process_vm_readv(c->target.pid, &local, 1, &remote, 1, 0);
    if (n != (ssize_t)sizeof h)
        return -1; /* could not read: decide by the layout */
    const uint64_t ar = h[0], prev = h[1], size = h[2], mprot = h[3];
    const uint64_t page = (uint64_t)(c->clock.page_size > 0 ? c->clock.page_size : 4096);
    const uint64_t rw = (mprot + page - 1) / page * page;
    if (size == 0 || size > mprot || mprot > ARENA_HEAP_MAX || rw != v->end - v->start)
        return 0;
    if (prev == 0)
        return ar > v->start && ar < v->start + size ? 1 : 0;
    return prev % ARENA_HEAP_MAX == 0 && ar != 0 ? 1 : 0;
}

static void classify(struct lx_capture *c, const struct lx_vma *vma, size_t n,
                     const char *names, const bool *image)
{
    PSS_DETAILS_REGION *reg = c->d->regions;
    int pagemap = -1; /* opened on the first arena candidate */
    bool pagemap_tried = false;
    for (size_t i = 0; i < n; i++) {
        const struct lx_vma *v = &vma[i];
        PSS_DETAILS_REGION *r = &reg[i];
        const bool anon = v->ino == 0 && (v->name_kind == LX_NAME_ANON ||
                                          v->name_kind == LX_NAME_ANON_NAMED ||
                                          v->name_kind == LX_NAME_OTHER);
        const bool noaccess = !v->r && !v->w && !v->x;
        switch (v->name_kind) {
        case LX_NAME_HEAP:
            r->Kind = PSS_REGION_KIND_HEAP;
            continue;
        case LX_NAME_STACK:
            r->Kind = PSS_REGION_KIND_STACK;
            r->KindFlags |= PSS_REGION_MAIN_STACK;
            r->KindThreadId = (DWORD)c->target.pid;
            continue;
        case LX_NAME_VDSO:
            r->Kind = PSS_REGION_KIND_IMAGE;
            continue;
        case LX_NAME_KERNEL:
            r->Kind = PSS_REGION_KIND_KERNEL;
            continue;
        default:
            break;
        }
        if (image[i]) {
            r->Kind = PSS_REGION_KIND_IMAGE;
            continue;
        }
        if (v->shared && (shmem_name(v, names) || anon)) {
            r->Kind = PSS_REGION_KIND_SHARED;
            continue;
        }
        if (!anon) {
            r->Kind = PSS_REGION_KIND_MAPPED;
            continue;
        }
        if (r->Kind != PSS_REGION_KIND_PRIVATE || r->KindFlags & PSS_REGION_GUARD)
            continue; /* already set as a guard or arena tail by a neighbour */
        uint32_t tid = noaccess ? 0 : sp_owner(c, v->start, v->end);
        if (tid != 0) {
            r->Kind = PSS_REGION_KIND_STACK;
            r->KindFlags |= PSS_REGION_STACK_BY_SP;
            r->KindThreadId = tid;
            if (i > 0 && reg[i - 1].EndAddress == v->start && vma[i - 1].ino == 0 &&
                !vma[i - 1].r && !vma[i - 1].w && !vma[i - 1].x &&
                vma[i - 1].name_kind == LX_NAME_ANON) {
                reg[i - 1].Kind = PSS_REGION_KIND_STACK;
                reg[i - 1].KindFlags |= PSS_REGION_GUARD;
                reg[i - 1].KindThreadId = tid;
            }
            continue;
        }
        const bool named_arena = v->name_kind == LX_NAME_ANON_NAMED && v->name_len >= 26 &&
                                 strncmp(names + v->name_off, "[anon: glibc: malloc arena",
                                         26) == 0;
        if (!noaccess && v->r && v->w && !v->shared &&
            (named_arena || v->start % ARENA_HEAP_MAX == 0)) {
            const bool tail = i + 1 < n && vma[i + 1].start == v->end && vma[i + 1].ino == 0 &&
                              !vma[i + 1].r && !vma[i + 1].w && !vma[i + 1].x;
            const uint64_t span = (v->end - v->start) + (tail ? vma[i + 1].end - v->end : 0);
            if (!pagemap_tried) {
                pagemap_tried = true;
                pagemap = openat(c->target.procfd, "pagemap", O_RDONLY | O_CLOEXEC);
            }
            int verified = arena_check(c, pagemap, v);
            bool arena = verified == 1 || named_arena ||
                         (verified < 0 && (span == ARENA_HEAP_MAX ||
                                           v->end - v->start == ARENA_HEAP_MAX));
            if (arena) {
                r->Kind = PSS_REGION_KIND_HEAP;
                r->KindFlags |= PSS_REGION_HEAP_ARENA;
                if (verified == 1)
                    r->KindFlags |= PSS_REGION_ARENA_VERIFIED;
                if (tail) {
                    reg[i + 1].Kind = PSS_REGION_KIND_HEAP;
                    reg[i + 1].KindFlags |= PSS_REGION_HEAP_ARENA | PSS_REGION_GUARD;
                }
                continue;
            }
        }
        r->Kind = noaccess ? PSS_REGION_KIND_RESERVED : PSS_REGION_KIND_PRIVATE;
    }
    if (pagemap >= 0)
        close(pagemap);
}

/* smaps_rollup's text: the counters of all field lines (header lines are skipped). */
DWORD lx_capture_regions(struct lx_capture *c)
{
    HPSSDETAILS d = c->d;
    struct parse_state ps;
    memset(&ps, 0, sizeof ps);
    ps.c = c;
    ps.usage = (c->flags & PSS_DETAILS_REGION_USAGE) != 0;
    bool *image = NULL;
    uint64_t t0 = pss_monotonic_ns();
    uint64_t bytes = 0;
    struct smaps_pipe sp;
    memset(&sp, 0, sizeof sp);
    DWORD rc = read_and_parse(&ps, ps.usage ? "smaps" : "maps", &bytes, ps.usage ? &sp : NULL);
    if (ps.usage)
        d->info.UsageBytesRead = bytes;
    if (rc != ERROR_SUCCESS) {
        d->nregions = 0;
        d->info.RegionsError = rc;
        if (ps.usage)
            d->info.UsageError = rc;
        goto out;
    }
    uint64_t t1 = pss_monotonic_ns();
    if (ps.usage) {
        d->info.UsageError = ERROR_SUCCESS;
        if (sp.rollup_read) { /* by the reader, while the parse finished */
            d->info.Rollup = sp.rollup;
            d->info.RollupError = sp.rollup_rc;
            d->info.RollupNanoseconds = sp.rollup_ns;
        } else {
            d->info.RollupError = read_rollup_into(c->target.procfd, &d->info.Rollup);
            d->info.RollupNanoseconds = pss_monotonic_ns() - t1;
        }
    }
    uint64_t t2 = pss_monotonic_ns();
    image = calloc(ps.nvma ? ps.nvma : 1, sizeof *image);
    if (image == NULL) {
        rc = ERROR_NOT_ENOUGH_MEMORY;
        goto out;
    }
    rc = lx_find_modules(c, ps.vma, ps.nvma, ps.names.data, image);
    d->info.ModulesNanoseconds = pss_monotonic_ns() - t2;
    if (rc != ERROR_SUCCESS)
        goto out;
    if (c->nsps > 1)
        qsort(c->sps, c->nsps, sizeof *c->sps, cmp_sp);
    classify(c, ps.vma, ps.nvma, ps.names.data, image);
    d->info.RegionsError = ERROR_SUCCESS;
    d->info.RegionsNanoseconds = (t1 - t0) + (pss_monotonic_ns() - t2) -
                                 d->info.ModulesNanoseconds;
out:
    free(image);
    free(ps.vma);
    pss_buf_free(&ps.names);
    return rc;
}
