/*
 * /proc/PID/maps: pss_maps_parse_fd (maps.c), the reader and parser behind pss_maps_read,
 * reads the input from a memfd -- made once, rewritten per input (a file and a 1 MiB read
 * buffer per input cost ~90% of the time: the target ran at ~130 exec/s).  The input is
 * parsed twice: in 4 KiB reads, so lines straddle reads and the carried tail is exercised,
 * and in one read of the whole text.
 * Checks: on success every entry has start < end, entries ascend without overlap, and every
 * name lies inside the name text, which holds each distinct name once and so is never
 * longer than the input; when both parses succeed they give the same entries and names
 * (the split into reads changes nothing).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "pss_internal.h"

#define SMALL_CHUNK 4096

static int memfd_ = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memfd_ = memfd_create("pss-fuzz-maps", MFD_CLOEXEC);
    if (memfd_ < 0)
        abort();
    return 0;
}

static DWORD parse(const uint8_t *data, size_t size, size_t chunk, struct pss_maps *m)
{
    if (ftruncate(memfd_, 0) != 0 || pwrite(memfd_, data, size, 0) != (ssize_t)size ||
        lseek(memfd_, 0, SEEK_SET) != 0)
        abort();
    memset(m, 0, sizeof *m);
    DWORD r = pss_maps_parse_fd(memfd_, chunk, m);
    FUZZ_CHECK(r == ERROR_SUCCESS || r == ERROR_INVALID_DATA);
    if (r != ERROR_SUCCESS)
        return r;
    /* The text keeps each distinct name once (maps.c): never more than was read. */
    FUZZ_CHECK(m->text.len <= size);
    uint64_t prev_end = 0;
    for (size_t i = 0; i < m->n; i++) {
        const struct pss_vma *v = &m->vma[i];
        FUZZ_CHECK(v->start < v->end);
        FUZZ_CHECK(v->start >= prev_end);
        prev_end = v->end;
        if (v->name == NULL) { /* an anonymous mapping: no name (maps.c) */
            FUZZ_CHECK(v->name_len == 0 && v->name_id == UINT32_MAX);
            continue;
        }
        FUZZ_CHECK(v->name_id < m->nnames);
        FUZZ_CHECK(v->name >= m->text.data &&
                   v->name + v->name_len < m->text.data + m->text.len);
        FUZZ_CHECK(v->name[v->name_len] == '\0');
    }
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pss_maps a, b;
    DWORD ra = parse(data, size, SMALL_CHUNK, &a);
    DWORD rb = parse(data, size, size + 1, &b);
    /* Whole, only a bad line fails; in reads, also a line longer than a read. */
    FUZZ_CHECK(!(rb == ERROR_INVALID_DATA && ra == ERROR_SUCCESS));
    if (ra == ERROR_SUCCESS && rb == ERROR_SUCCESS) {
        FUZZ_CHECK(a.n == b.n && a.nnames == b.nnames && a.text.len == b.text.len);
        FUZZ_CHECK(a.text.len == 0 || memcmp(a.text.data, b.text.data, a.text.len) == 0);
        for (size_t i = 0; i < a.n; i++) {
            const struct pss_vma *x = &a.vma[i], *y = &b.vma[i];
            FUZZ_CHECK(x->start == y->start && x->end == y->end && x->offset == y->offset &&
                       x->ino == y->ino && x->dev_major == y->dev_major &&
                       x->dev_minor == y->dev_minor && x->r == y->r && x->w == y->w &&
                       x->x == y->x && x->shared == y->shared && x->name_id == y->name_id &&
                       x->name_len == y->name_len);
        }
    }
    pss_maps_free(&a);
    pss_maps_free(&b);
    return 0;
}
