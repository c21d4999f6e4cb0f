/*
 * /proc/PID/stat and /proc/PID/task/TID/stat: pss_parse_stat (procdir.c) reads exactly `len`
 * bytes (comm may hold spaces and parentheses; fields start after the last ')').
 */
#include <errno.h>

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
    struct pss_stat st;
    /* The exact bytes, unterminated: any read past `size` is an ASan report. */
    char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    int r = pss_parse_stat(copy, size, &st);
    FUZZ_CHECK(r == 0 || r == -EINVAL);
    free(copy);
    return 0;
}
