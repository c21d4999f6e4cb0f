/*
 * ELF headers, by both ELF readers of libpss (untrusted content: the first bytes of every
 * mapped file of the target, and the vDSO):
 *  - pss_elf_from_memory (elf_image.c), the VA walk's image test;
 *  - lx_elf_parse_memory and lx_elf_parse_fd (linux_ext_modules.c), the modules phase's
 *    PT_LOAD span, executable segments, GNU build-id note and DT_SONAME.
 * Every offset and count must be bounds-checked: the memory readers get an exactly-sized
 * copy (reading past it is an ASan report), the fd reader a memfd (made once) holding it.
 * Checks: page-aligned addresses, the span not inverted, the executable segments inside it,
 * the build-id and soname within their arrays (soname terminated), and the fd and memory
 * readers agreeing on everything but the soname (memory images may hold relocated
 * pointers, which only the memory reader undoes).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "linux_ext.h"

static int memfd_ = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memfd_ = memfd_create("pss-fuzz-elf", MFD_CLOEXEC);
    if (memfd_ < 0)
        abort();
    return 0;
}

static void check_lx(const struct lx_elf *e)
{
    FUZZ_CHECK(e->build_id_len <= sizeof e->build_id);
    FUZZ_CHECK(memchr(e->soname, '\0', sizeof e->soname) != NULL);
    FUZZ_CHECK(e->nexec <= 4);
    if (!e->ok)
        return;
    FUZZ_CHECK(e->min_vaddr % 4096 == 0 && e->max_vaddr % 4096 == 0);
    FUZZ_CHECK(e->min_vaddr <= e->max_vaddr);
    for (unsigned i = 0; i < e->nexec; i++) {
        FUZZ_CHECK(e->exec_vaddr[i] % 4096 == 0 && e->exec_offset[i] % 4096 == 0);
        FUZZ_CHECK(e->exec_vaddr[i] >= e->min_vaddr && e->exec_vaddr[i] <= e->max_vaddr);
    }
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

    struct lx_elf m, f;
    lx_elf_parse_memory(copy, size, 4096, &m);
    check_lx(&m);
    if (ftruncate(memfd_, 0) != 0 || pwrite(memfd_, data, size, 0) != (ssize_t)size)
        abort();
    lx_elf_parse_fd(memfd_, 4096, &f);
    check_lx(&f);
    FUZZ_CHECK(m.ok == f.ok && m.elf32 == f.elf32 && m.dyn == f.dyn &&
               m.min_vaddr == f.min_vaddr && m.max_vaddr == f.max_vaddr && m.nexec == f.nexec &&
               memcmp(m.exec_vaddr, f.exec_vaddr, sizeof m.exec_vaddr) == 0 &&
               memcmp(m.exec_offset, f.exec_offset, sizeof m.exec_offset) == 0 &&
               m.build_id_len == f.build_id_len &&
               memcmp(m.build_id, f.build_id, m.build_id_len) == 0);
    free(copy);
    return 0;
}
