/*
 * maps.c -- reading and parsing /proc/PID/maps.
 *
 * Line format: "start-end perms offset major:minor inode   [path]".  The kernel
 * generates the file a buffer at a time with the lock dropped in between, so a VMA can
 * appear twice; addresses never go backwards, hence entries whose start is below the
 * previous end are dropped.
 *
 * The file is read in 1 MiB chunks and parsed as it arrives (a process with 200,000
 * mappings has 20+ MB of maps text; only the distinct names are kept).  Names are stored
 * once each in m->text (a hash table finds repeats), and every VMA carries the index of
 * its name, so later steps can reuse per-name work (one UTF-16 copy per file name).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pss_internal.h"

#define CHUNK (1u << 20)

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

void pss_prefault(void *p, size_t bytes)
{
    const uintptr_t page = 4096;
    if (bytes < (1u << 20))
        return;
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t b = ((uintptr_t)p + bytes) & ~(page - 1);
    if (bytes >= (4u << 20)) {
        const uintptr_t huge = 2u << 20;
        uintptr_t ha = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t hb = ((uintptr_t)p + bytes) & ~(huge - 1);
        if (hb > ha)
            madvise((void *)ha, hb - ha, MADV_HUGEPAGE);
    }
    if (b > a)
        madvise((void *)a, b - a, MADV_POPULATE_WRITE);
}

static const signed char hexval[256] = {
    ['0'] = 1, ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7, ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
    ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
}; /* digit value + 1; 0 = not a hex digit */

static bool hex_field(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int digits = 0;
    while (s < end) {
        int d = hexval[(unsigned char)*s];
        if (d == 0)
            break;
        if (digits >= 16)
            return false;
        v = (v << 4) | (uint64_t)(d - 1);
        digits++;
        s++;
    }
    if (digits == 0)
        return false;
    *p = s;
    *out = v;
    return true;
}

static bool dec_field(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int digits = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        v = v * 10 + (uint64_t)(*s - '0');
        digits++;
        s++;
    }
    if (digits == 0)
        return false;
    *p = s;
    *out = v;
    return true;
}

static bool expect(const char **p, const char *end, char ch)
{
    if (*p >= end || **p != ch)
        return false;
    (*p)++;
    return true;
}

/* Parses one line [p, end) (end excludes the newline); the name is left in [*name, end). */
static bool parse_line(const char *p, const char *end, struct pss_vma *v, const char **name)
{
    uint64_t maj, min;
    if (!hex_field(&p, end, &v->start) || !expect(&p, end, '-') ||
        !hex_field(&p, end, &v->end) || !expect(&p, end, ' '))
        return false;
    if (end - p < 5)
        return false;
    v->r = p[0] == 'r';
    v->w = p[1] == 'w';
    v->x = p[2] == 'x';
    v->shared = p[3] == 's';
    p += 4;
    if (!expect(&p, end, ' ') || !hex_field(&p, end, &v->offset) || !expect(&p, end, ' ') ||
        !hex_field(&p, end, &maj) || !expect(&p, end, ':') || !hex_field(&p, end, &min) ||
        !expect(&p, end, ' ') || !dec_field(&p, end, &v->ino))
        return false;
    v->dev_major = (uint32_t)maj;
    v->dev_minor = (uint32_t)min;
    while (p < end && *p == ' ')
        p++;
    *name = p;
    return v->end > v->start;
}

/* Distinct names: offsets into m->text, found again through a hash table. */
struct name_table {
    struct name_slot {
        uint64_t hash;
        uint32_t off, len; /* len 0 = free slot */
        uint32_t id;
    } *slot;
    size_t cap, n;
    uint32_t *id_off; /* id -> offset in m->text */
    size_t id_cap;
};

static uint64_t name_hash(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
    return h;
}

static int table_grow(struct name_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    struct name_slot *s = calloc(cap, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slot[i].len == 0)
            continue;
        size_t k = (size_t)t->slot[i].hash & (cap - 1);
        while (s[k].len != 0)
            k = (k + 1) & (cap - 1);
        s[k] = t->slot[i];
    }
    free(t->slot);
    t->slot = s;
    t->cap = cap;
    return 0;
}

/* Returns the id of name [p, p+n) (0 < n < 2^31), storing it in m->text if new;
 * -ENOMEM. */
static int64_t intern(struct pss_maps *m, struct name_table *t, const char *p, size_t n)
{
    uint64_t h = name_hash(p, n);
    if (t->cap > 0) {
        for (size_t k = (size_t)h & (t->cap - 1); t->slot[k].len != 0; k = (k + 1) & (t->cap - 1))
            if (t->slot[k].hash == h && t->slot[k].len == n &&
                memcmp(m->text.data + t->slot[k].off, p, n) == 0)
                return t->slot[k].id;
    }
    if ((t->n + 1) * 2 > t->cap && table_grow(t) != 0)
        return -ENOMEM;
    if (m->text.len + n + 1 > UINT32_MAX || pss_buf_reserve(&m->text, n + 1) != 0 ||
        pss_grow((void **)&t->id_off, &t->id_cap, t->n + 1, sizeof *t->id_off) != 0)
        return -ENOMEM;
    uint32_t off = (uint32_t)m->text.len;
    memcpy(m->text.data + m->text.len, p, n);
    m->text.len += n;
    m->text.data[m->text.len++] = '\0';
    size_t k = (size_t)h & (t->cap - 1);
    while (t->slot[k].len != 0)
        k = (k + 1) & (t->cap - 1);
    t->slot[k] = (struct name_slot){h, off, (uint32_t)n, (uint32_t)t->n};
    t->id_off[t->n] = off;
    return (int64_t)t->n++;
}

static void table_free(struct name_table *t)
{
    free(t->slot);
    free(t->id_off);
}

DWORD pss_maps_read(int procfd, struct pss_maps *m)
{
    int fd;
    do {
        fd = openat(procfd, "maps", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return pss_win32_from_errno(errno);
    DWORD rc = pss_maps_parse_fd(fd, CHUNK, m);
    close(fd);
    return rc;
}

/* The reader and parser behind pss_maps_read, on an open fd, read `chunk` bytes at a time
 * (the fuzz target's seam: a small chunk there exercises lines split across reads). */
DWORD pss_maps_parse_fd(int fd, size_t chunk, struct pss_maps *m)
{
    m->n = 0;
    m->text.len = 0;
    m->nnames = 0;
    char *buf = malloc(chunk + 1);
    struct name_table t;
    memset(&t, 0, sizeof t);
    DWORD rc = buf == NULL ? ERROR_NOT_ENOUGH_MEMORY : ERROR_SUCCESS;
    size_t have = 0;
    uint64_t prev_end = 0;
    /* The last file name interned, by dev:inode: mappings of one file come in runs (or
     * alternate with anonymous memory), so most lookups end here with one memcmp. */
    struct {
        uint64_t ino;
        uint32_t major, minor, len, id;
    } last = {0, 0, 0, 0, 0};
    bool eof = false;
    while (rc == ERROR_SUCCESS && !eof) {
        ssize_t r = read(fd, buf + have, chunk - have);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = pss_win32_from_errno(errno);
            break;
        }
        eof = r == 0;
        have += (size_t)r;
        if (!eof && have < chunk && memchr(buf + have - (size_t)r, '\n', (size_t)r) == NULL)
            continue; /* no complete line yet */
        const char *p = buf, *end = buf + have;
        while (p < end && rc == ERROR_SUCCESS) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (nl == NULL && !eof) {
                if (p == buf && have == chunk) /* a line longer than the chunk */
                    rc = ERROR_INVALID_DATA;
                break;
            }
            const char *le = nl ? nl : end;
            struct pss_vma v;
            const char *name;
            if (!parse_line(p, le, &v, &name)) {
                rc = ERROR_INVALID_DATA;
                break;
            }
            if (v.start >= prev_end) {
                size_t nlen = (size_t)(le - name);
                v.name_len = (uint32_t)nlen;
                v.name_id = UINT32_MAX;
                v.name = NULL;
                if (nlen > 0 && v.ino != 0 && last.ino == v.ino && last.len == nlen &&
                    last.major == v.dev_major && last.minor == v.dev_minor &&
                    memcmp(m->text.data + t.id_off[last.id], name, nlen) == 0) {
                    v.name_id = last.id;
                } else if (nlen > 0) {
                    int64_t id = intern(m, &t, name, nlen);
                    if (id < 0) {
                        rc = ERROR_NOT_ENOUGH_MEMORY;
                        break;
                    }
                    v.name_id = (uint32_t)id;
                    if (v.ino != 0) {
                        last.ino = v.ino;
                        last.major = v.dev_major;
                        last.minor = v.dev_minor;
                        last.len = (uint32_t)nlen;
                        last.id = (uint32_t)id;
                    }
                }
                if (m->n == m->cap) {
                    size_t old = m->cap;
                    if (pss_grow((void **)&m->vma, &m->cap, m->n + 1, sizeof *m->vma) != 0) {
                        rc = ERROR_NOT_ENOUGH_MEMORY;
                        break;
                    }
                    pss_prefault(m->vma + old, (m->cap - old) * sizeof *m->vma);
                }
                m->vma[m->n++] = v;
                prev_end = v.end;
            }
            p = nl ? nl + 1 : end;
        }
        /* Keep the incomplete tail for the next read. */
        size_t used = (size_t)(p - buf);
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    free(buf);
    if (rc == ERROR_SUCCESS) {
        /* Names point into the text now that it no longer moves. */
        for (size_t i = 0; i < m->n; i++)
            if (m->vma[i].name_id != UINT32_MAX)
                m->vma[i].name = m->text.data + t.id_off[m->vma[i].name_id];
        m->nnames = t.n;
    }
    table_free(&t);
    return rc;
}

void pss_maps_free(struct pss_maps *m)
{
    pss_buf_free(&m->text);
    free(m->vma);
    m->vma = NULL;
    m->n = m->cap = 0;
    m->nnames = 0;
}
