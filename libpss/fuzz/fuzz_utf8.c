/*
 * UTF-8 -> UTF-16 (utf16.c), which every name from /proc goes through (comm, exe path, fd
 * link text, mapped file names): invalid bytes become U+FFFD, the result is always
 * NUL-terminated and within its bounds.
 */
#include "fuzz_common.h"
#include "pss_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, data, size);

    /* MAX_PATH-sized fixed buffer, as for ImageFileName, and a tiny one. */
    uint16_t fixed[260];
    size_t n = pss_utf8_to_utf16_fixed(copy, size, fixed, 260);
    FUZZ_CHECK(n < 260 && fixed[n] == 0);
    uint16_t one[1];
    FUZZ_CHECK(pss_utf8_to_utf16_fixed(copy, size, one, 1) == 0 && one[0] == 0);

    struct pss_strpool pool;
    memset(&pool, 0, sizeof pool);
    struct pss_strref a, b;
    if (pss_pool_add_utf8(&pool, copy, size, &a) == 0 &&
        pss_pool_add_utf8(&pool, copy, size / 2, &b) == 0) {
        FUZZ_CHECK(a.len <= PSS_MAX_STRING_UNITS && b.len <= PSS_MAX_STRING_UNITS);
        /* len 0 is "no string" (nothing stored); any other is stored NUL-terminated. */
        FUZZ_CHECK(a.len == 0 || (a.off + a.len < pool.len && pool.data[a.off + a.len] == 0));
        FUZZ_CHECK(b.len == 0 || (b.off + b.len < pool.len && pool.data[b.off + b.len] == 0));
        FUZZ_CHECK(size == 0 || a.len > 0);
    }
    pss_pool_free(&pool);
    free(copy);
    return 0;
}
