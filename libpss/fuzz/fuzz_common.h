/*
 * fuzz_common.h -- shared by the libFuzzer targets (libpss/fuzz/README.md).  A target feeds
 * libFuzzer's bytes to one libpss parser, exactly as the library gets them from /proc (a
 * buffer, a NUL-terminated buffer, or a file read through a directory fd), and checks the
 * parser's documented post-conditions; ASan/UBSan catch everything else.
 */
#ifndef PSS_FUZZ_COMMON_H
#define PSS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A NUL-terminated copy of the input (the /proc readers always terminate what they read). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A post-condition failed: report and crash so libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
