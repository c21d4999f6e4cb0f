/*
 * /proc/PID/status: pss_status_field (procdir.c) on NUL-terminated text, for every key libpss
 * asks for.
 */
#include "fuzz_common.h"
#include "pss_internal.h"

static const char *const keys[] = {
    "Uid", "Tgid", "TracerPid", "VmSize", "VmPeak", "VmRSS", "VmHWM", "VmPTE", "VmData", "VmStk",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        uint64_t v = 0xdeadbeef;
        bool found = pss_status_field(text, keys[i], &v);
        FUZZ_CHECK(found || v == 0xdeadbeef);
    }
    free(text);
    return 0;
}
