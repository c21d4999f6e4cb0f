/*
 * /proc/PID/smaps (and maps) as the regions phase parses it: stream_parse and parse_text in
 * linux_ext_regions.c, then parse_rollup (smaps_rollup) on the same text.  Those are static,
 * so this target compiles linux_ext_regions.c into itself and is linked without the
 * library's copy.  The input is read from a memfd (made once) twice: in 4 KiB reads, so
 * lines straddle reads, in one read of the whole text, and through the pipelined reader
 * (pipe_parse: a reader thread filling 4 KiB buffers, so lines split at buffer ends and its
 * ring of buffers wraps).
 * Checks: regions ascend without overlap with start < end, one VMA record per region, every
 * name inside the name pool and NUL-terminated, its kind what name_kind says, only the 20
 * counters' Present bits set and every counter a whole number of KiB; when both parses
 * succeed they give identical regions, VMAs and names (the split into reads changes
 * nothing), the pipelined parse ends like the chunked one with identical results, and the
 * whole-text parse never fails where the chunked one succeeds.
 * The rollup parse succeeds exactly when it found a counter.
 */
#include "../src/linux_ext_regions.c"

#include <sys/mman.h>

#include "fuzz_common.h"

#define SMALL_CHUNK 4096

static int memfd_ = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memfd_ = memfd_create("pss-fuzz-smaps", MFD_CLOEXEC);
    if (memfd_ < 0)
        abort();
    return 0;
}

struct result {
    struct HPSSDETAILS__ d;
    struct lx_capture c;
    struct parse_state ps;
    DWORD rc;
};

/* chunk: read size of stream_parse, or, when piped, the buffer size of pipe_parse (the
 * reader thread fills each buffer before the parser takes it). */
static void parse(const uint8_t *data, size_t size, size_t chunk, bool piped,
                  struct result *out)
{
    if (ftruncate(memfd_, 0) != 0 || pwrite(memfd_, data, size, 0) != (ssize_t)size ||
        lseek(memfd_, 0, SEEK_SET) != 0)
        abort();
    memset(out, 0, sizeof *out);
    out->c.d = &out->d;
    out->ps.c = &out->c;
    out->ps.usage = true;
    uint64_t bytes = 0;
    if (piped) {
        struct smaps_pipe sp;
        memset(&sp, 0, sizeof sp);
        sp.fd = memfd_;
        sp.procfd = -1;
        sp.chunk = chunk;
        sp.room = 1;
        bool ok;
        out->rc = pipe_parse(&out->ps, &sp, &ok);
        FUZZ_CHECK(ok);
        bytes = sp.bytes;
    } else {
        out->rc = stream_parse(&out->ps, memfd_, chunk, &bytes);
    }
    FUZZ_CHECK(out->rc == ERROR_SUCCESS || out->rc == ERROR_INVALID_DATA);
    FUZZ_CHECK(bytes <= size);
    if (out->rc != ERROR_SUCCESS)
        return;
    FUZZ_CHECK(bytes == size);
    const HPSSDETAILS d = &out->d;
    const struct parse_state *ps = &out->ps;
    FUZZ_CHECK(d->nregions == ps->nvma);
    FUZZ_CHECK(ps->names.len <= size);
    uint64_t prev_end = 0;
    for (size_t i = 0; i < d->nregions; i++) {
        const PSS_DETAILS_REGION *r = &d->regions[i];
        const struct lx_vma *v = &ps->vma[i];
        FUZZ_CHECK(r->BaseAddress < r->EndAddress && r->BaseAddress >= prev_end);
        prev_end = r->EndAddress;
        FUZZ_CHECK(v->start == r->BaseAddress && v->end == r->EndAddress);
        FUZZ_CHECK(r->KindFlags == PSS_REGION_HAVE_USAGE);
        FUZZ_CHECK((r->Usage.Present >> 20) == 0);
        for (int k = 0; k < 20; k++) {
            ULONGLONG x;
            memcpy(&x, (const char *)&r->Usage + MEM_OFFSETS[k], sizeof x);
            FUZZ_CHECK(x % 1024 == 0);
            FUZZ_CHECK(x == 0 || (r->Usage.Present & (1u << k)));
        }
        if (v->name_len == 0) {
            FUZZ_CHECK(v->name_kind == LX_NAME_ANON);
            continue;
        }
        FUZZ_CHECK((uint64_t)v->name_off + v->name_len < ps->names.len);
        const char *n = ps->names.data + v->name_off;
        FUZZ_CHECK(n[v->name_len] == '\0');
        FUZZ_CHECK(v->name_kind == name_kind(n, v->name_len));
    }
}

static void release(struct result *r)
{
    free(r->d.regions);
    free(r->ps.vma);
    pss_buf_free(&r->ps.names);
}

/* Two successful parses of the same text found the same regions, VMAs and names. */
static void expect_same(const struct result *x, const struct result *y)
{
    FUZZ_CHECK(x->d.nregions == y->d.nregions && x->ps.names.len == y->ps.names.len);
    FUZZ_CHECK(x->d.nregions == 0 ||
               memcmp(x->d.regions, y->d.regions, x->d.nregions * sizeof *x->d.regions) == 0);
    FUZZ_CHECK(x->d.nregions == 0 ||
               memcmp(x->ps.vma, y->ps.vma, x->d.nregions * sizeof *x->ps.vma) == 0);
    FUZZ_CHECK(x->ps.names.len == 0 ||
               memcmp(x->ps.names.data, y->ps.names.data, x->ps.names.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct result a, b, c; /* large (PSS_DETAILS_INFORMATION): not on the stack */
    parse(data, size, SMALL_CHUNK, false, &a);
    parse(data, size, size + 1, false, &b);
    parse(data, size, SMALL_CHUNK, true, &c);
    /* The pipelined reader (small buffers) ends exactly as the chunked read does. */
    FUZZ_CHECK(c.rc == a.rc);
    if (a.rc == ERROR_SUCCESS) {
        expect_same(&a, &c);
    }
    release(&c);
    FUZZ_CHECK(!(b.rc == ERROR_INVALID_DATA && a.rc == ERROR_SUCCESS));
    if (a.rc == ERROR_SUCCESS && b.rc == ERROR_SUCCESS) {
        expect_same(&a, &b);
    }
    release(&a);
    release(&b);

    PSS_DETAILS_MEMORY m;
    DWORD rc = parse_rollup(&m, (const char *)data, size);
    FUZZ_CHECK((rc == ERROR_SUCCESS) == (m.Present != 0));
    FUZZ_CHECK((m.Present >> 20) == 0);
    return 0;
}
