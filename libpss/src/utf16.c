/*
 * utf16.c -- UTF-8 bytes from /proc to UTF-16 for the snapshot.
 *
 * Linux names are arbitrary bytes.  Well-formed UTF-8 (no overlongs, no surrogates,
 * at most U+10FFFF) is converted; every byte that does not begin a well-formed
 * sequence becomes one U+FFFD.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pss_internal.h"

/* Decodes one code point at s[0..n).  Returns bytes consumed (>= 1); *cp = U+FFFD for
 * an invalid byte. */
static size_t decode_one(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1Fu;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0Fu;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07u;
        min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (n < need + 1) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if ((s[i] & 0xC0u) != 0x80u) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = v;
    return need + 1;
}

/* Converts into dst (room for cap units, no NUL written).  Stops before a code point
 * that would not fit.  Returns units written. */
static size_t convert(const char *src, size_t n, uint16_t *dst, size_t cap)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, o = 0;
    while (i < n) {
        /* Fast path for ASCII runs. */
        if (s[i] < 0x80) {
            if (o >= cap)
                break;
            dst[o++] = s[i++];
            continue;
        }
        uint32_t cp;
        size_t used = decode_one(s + i, n - i, &cp);
        if (cp >= 0x10000) {
            if (o + 2 > cap)
                break;
            cp -= 0x10000;
            dst[o++] = (uint16_t)(0xD800u + (cp >> 10));
            dst[o++] = (uint16_t)(0xDC00u + (cp & 0x3FFu));
        } else {
            if (o >= cap)
                break;
            dst[o++] = (uint16_t)cp;
        }
        i += used;
    }
    return o;
}

size_t pss_utf8_to_utf16_fixed(const char *s, size_t n, uint16_t *dst, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t o = convert(s, n, dst, cap - 1);
    dst[o] = 0;
    return o;
}

int pss_pool_add_utf8(struct pss_strpool *pool, const char *s, size_t n, struct pss_strref *out)
{
    out->off = 0;
    out->len = 0;
    if (n == 0)
        return 0;
    /* A UTF-8 string never needs more UTF-16 units than it has bytes. */
    size_t units = n < PSS_MAX_STRING_UNITS ? n : PSS_MAX_STRING_UNITS;
    if (pool->len + units + 1 > UINT32_MAX)
        return -ENOMEM;
    if (pss_grow((void **)&pool->data, &pool->cap, pool->len + units + 1, sizeof(uint16_t)) != 0)
        return -ENOMEM;
    size_t o = convert(s, n, pool->data + pool->len, units);
    pool->data[pool->len + o] = 0;
    out->off = (uint32_t)pool->len;
    out->len = (uint32_t)o;
    pool->len += o + 1;
    return 0;
}

void pss_pool_free(struct pss_strpool *pool)
{
    free(pool->data);
    pool->data = NULL;
    pool->len = pool->cap = 0;
}
