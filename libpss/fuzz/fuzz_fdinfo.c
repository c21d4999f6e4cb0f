/*
 * /proc/PID/fdinfo/N and the readlink text of /proc/PID/fd/N, as capture_handles.c parses
 * them.  Those parsers are static in capture_handles.c, so this target compiles that file
 * into itself (the seam needs no change to it) and is linked without the library's copy.
 * The input is split at its first NUL: before it the fdinfo text (at most 2047 bytes, as
 * read_fdinfo reads it), after it the link text (unterminated, as readlinkat returns it).
 */
#include "../src/capture_handles.c"

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t info_len = nul ? (size_t)(nul - data) : size;
    if (info_len > 2047)
        info_len = 2047;
    char *info = fuzz_cstr(data, info_len);
    struct fdinfo fi;
    memset(&fi, 0, sizeof fi);
    parse_fdinfo(info, &fi);
    /* parse_u is strtoull for the text the kernel prints (no sign, blanks only). */
    const char *t = info;
    while (*t == ' ' || *t == '\t')
        t++;
    if (*t != '+' && *t != '-' && *t != '\n' && *t != '\v' && *t != '\f' && *t != '\r') {
        static const unsigned bases[] = {8, 10, 16};
        for (size_t b = 0; b < 3; b++)
            FUZZ_CHECK(parse_u(info, bases[b]) == strtoull(t, NULL, (int)bases[b]));
    }
    free(info);

    const uint8_t *link = nul ? nul + 1 : data + size;
    size_t link_len = (size_t)(data + size - link);
    char *copy = malloc(link_len ? link_len : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, link, link_len);
    enum fd_kind k = classify_link(copy, link_len);
    FUZZ_CHECK((size_t)k < sizeof kind_type_name / sizeof kind_type_name[0]);
    free(copy);
    return 0;
}
