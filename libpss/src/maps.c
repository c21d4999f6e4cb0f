/*
 * maps.c -- reading and parsing /proc/PID/maps.
 *
 * Line format: "start-end perms offset major:minor inode   [path]".  The whole file is
 * read with large reads into one buffer (the kernel generates it a page at a time with
 * the lock dropped in between, so a VMA can appear twice; addresses never go
 * backwards, hence entries whose start is below the previous end are dropped).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pss_internal.h"

static bool hex_field(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int digits = 0;
    while (s < end) {
        char ch = *s;
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            break;
        if (digits >= 16)
            return false;
        v = (v << 4) | d;
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

/* Parses one line [p, end) (end excludes the newline). */
static bool parse_line(const char *p, const char *end, struct pss_vma *v)
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
    v->name = p;
    v->name_len = (uint32_t)(end - p);
    return v->end > v->start;
}

DWORD pss_maps_read(int procfd, struct pss_maps *m)
{
    int r = pss_read_all(procfd, "maps", &m->text);
    if (r < 0)
        return pss_win32_from_errno(-r);
    m->n = 0;
    const char *p = m->text.data;
    const char *end = p + m->text.len;
    uint64_t prev_end = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        struct pss_vma v;
        if (!parse_line(p, le, &v))
            return ERROR_INVALID_DATA;
        if (v.start >= prev_end) {
            if (pss_grow((void **)&m->vma, &m->cap, m->n + 1, sizeof *m->vma) != 0)
                return ERROR_NOT_ENOUGH_MEMORY;
            m->vma[m->n++] = v;
            prev_end = v.end;
        }
        p = nl ? nl + 1 : end;
    }
    return ERROR_SUCCESS;
}

void pss_maps_free(struct pss_maps *m)
{
    pss_buf_free(&m->text);
    free(m->vma);
    m->vma = NULL;
    m->n = m->cap = 0;
}
