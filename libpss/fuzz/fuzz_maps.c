/*
 * /proc/PID/maps: pss_maps_read (maps.c) reads "maps" relative to a directory fd, exactly as
 * from /proc/PID; here the directory is a private temporary one whose "maps" file holds the
 * input.  Checks: on success every entry has start < end, entries ascend without overlap, and
 * every name lies inside the name text, which holds each distinct name once and so is never
 * longer than the input.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "pss_internal.h"

static int dirfd_ = -1;
static char dir_[256];

static void cleanup(void)
{
    if (dirfd_ >= 0) {
        unlinkat(dirfd_, "maps", 0);
        close(dirfd_);
        rmdir(dir_);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir_, sizeof dir_, "%s/pss-fuzz-maps-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir_) == NULL)
        abort();
    dirfd_ = open(dir_, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd_ < 0)
        abort();
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = openat(dirfd_, "maps", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    close(fd);

    struct pss_maps m;
    memset(&m, 0, sizeof m);
    DWORD r = pss_maps_read(dirfd_, &m);
    FUZZ_CHECK(r == ERROR_SUCCESS || r == ERROR_INVALID_DATA);
    if (r == ERROR_SUCCESS) {
        /* The text keeps each distinct name once (maps.c): never more than was read. */
        FUZZ_CHECK(m.text.len <= size);
        uint64_t prev_end = 0;
        for (size_t i = 0; i < m.n; i++) {
            const struct pss_vma *v = &m.vma[i];
            FUZZ_CHECK(v->start < v->end);
            FUZZ_CHECK(v->start >= prev_end);
            prev_end = v->end;
            if (v->name == NULL) { /* an anonymous mapping: no name (maps.c) */
                FUZZ_CHECK(v->name_len == 0 && v->name_id == UINT32_MAX);
                continue;
            }
            FUZZ_CHECK(v->name_id < m.nnames);
            FUZZ_CHECK(v->name >= m.text.data && v->name + v->name_len <= m.text.data + m.text.len);
        }
    }
    pss_maps_free(&m);
    return 0;
}
