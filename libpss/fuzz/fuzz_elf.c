/*
 * ELF headers (elf_image.c): the VA walk reads the first bytes of every mapped file of the
 * target (untrusted content) to tell images from data.  pss_elf_from_memory parses an image
 * held in memory with the same code as files; every offset and count must be bounds-checked.
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
    /* An exactly-sized copy: reading past it is an ASan report. */
    unsigned char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    struct pss_elf_info info;
    memset(&info, 0, sizeof info);
    pss_elf_from_memory(copy, size, 4096, &info);
    if (info.is_elf) {
        FUZZ_CHECK(info.min_vaddr % 4096 == 0);
        FUZZ_CHECK(!info.have_exec_load || info.exec_vaddr % 4096 == 0);
    }
    free(copy);
    return 0;
}
