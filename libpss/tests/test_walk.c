/*
 * test_walk.c -- walk markers: positions, seeking, rebinding, and the PSS_ALLOCATOR
 * contract (every block through the caller's routines, transactional failure at every
 * allocation index, NULL frees, calling thread, pointer kept not copied).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static const DWORD entry_sizes[4] = {sizeof(PSS_AUXILIARY_PAGE_ENTRY),
                                     sizeof(PSS_VA_SPACE_ENTRY), sizeof(PSS_HANDLE_ENTRY),
                                     sizeof(PSS_THREAD_ENTRY)};

int test_positions_save_restore(void)
{
    HPSS s;
    HPSSWALK w;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &s), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    PSS_VA_SPACE_ENTRY v[6];
    for (int i = 0; i < 3; i++)
        CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, &v[i], sizeof v[i]), ERROR_SUCCESS);
    ULONG_PTR pos;
    CHECK_EQ(PssWalkMarkerGetPosition(w, &pos), ERROR_SUCCESS);
    CHECK_EQ(pos, UINT64_C(0x5053000200000003)); /* class VA_SPACE (1) + 1, index 3 */
    for (int i = 3; i < 6; i++)
        CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, &v[i], sizeof v[i]), ERROR_SUCCESS);

    /* Walking another class moves only that class's cursor. */
    PSS_HANDLE_ENTRY h0, h1;
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &h0, sizeof h0), ERROR_SUCCESS);
    ULONG_PTR hpos;
    CHECK_EQ(PssWalkMarkerGetPosition(w, &hpos), ERROR_SUCCESS);
    CHECK_EQ(hpos, UINT64_C(0x5053000300000001));

    CHECK_EQ(PssWalkMarkerSetPosition(w, pos), ERROR_SUCCESS);
    PSS_VA_SPACE_ENTRY again;
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, &again, sizeof again), ERROR_SUCCESS);
    CHECK(again.BaseAddress == v[3].BaseAddress && again.RegionSize == v[3].RegionSize);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &h1, sizeof h1), ERROR_SUCCESS);
    CHECK((uintptr_t)h1.Handle > (uintptr_t)h0.Handle);

    /* A position from one marker works in another. */
    HPSSWALK w2;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w2), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerSetPosition(w2, pos), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w2, &again, sizeof again), ERROR_SUCCESS);
    /* w2 was unbound: binding keeps the position it was given. */
    CHECK(again.BaseAddress == v[3].BaseAddress);
    CHECK_EQ(PssWalkMarkerSetPosition(w2, pos), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w2, &again, sizeof again), ERROR_SUCCESS);
    CHECK(again.BaseAddress == v[3].BaseAddress);
    /* An unbound marker clamps an index beyond the end when it binds. */
    HPSSWALK w3;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w3), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerSetPosition(w3, UINT64_C(0x5053000400001000)), ERROR_SUCCESS);
    PSS_THREAD_ENTRY te;
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, w3, &te, sizeof te), ERROR_NO_MORE_ITEMS);
    CHECK_EQ(PssWalkMarkerGetPosition(w3, &hpos), ERROR_SUCCESS);
    CHECK_EQ(hpos, UINT64_C(0x5053000400000001));
    CHECK_EQ(PssWalkMarkerFree(w3), ERROR_SUCCESS);

    /* The end position is valid and restores "no more items". */
    PSS_VA_SPACE_INFORMATION vi;
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_VA_SPACE_INFORMATION, &vi, sizeof vi), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerSetPosition(w2, UINT64_C(0x5053000200000000) | vi.RegionCount),
             ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w2, &again, sizeof again), ERROR_NO_MORE_ITEMS);
    CHECK_EQ(PssWalkMarkerSetPosition(w2, UINT64_C(0x5053000200000001) + vi.RegionCount),
             ERROR_INVALID_PARAMETER);

    CHECK_EQ(PssWalkMarkerFree(w2), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_seek_restarts_every_class(void)
{
    HPSS s;
    HPSSWALK w;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &s), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    PSS_VA_SPACE_ENTRY v0, v;
    PSS_HANDLE_ENTRY h0, h;
    PSS_THREAD_ENTRY t0, t;
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, &v0, sizeof v0), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, &v, sizeof v), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &h0, sizeof h0), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &h, sizeof h), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t0, sizeof t0), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_NO_MORE_ITEMS);

    CHECK_EQ(PssWalkMarkerSeekToBeginning(w), ERROR_SUCCESS);
    ULONG_PTR pos;
    CHECK_EQ(PssWalkMarkerGetPosition(w, &pos), ERROR_SUCCESS);
    CHECK_EQ(pos, UINT64_C(0x5053000000000000));
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_SUCCESS);
    CHECK_EQ(t.ThreadId, t0.ThreadId);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &h, sizeof h), ERROR_SUCCESS);
    CHECK(h.Handle == h0.Handle);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, &v, sizeof v), ERROR_SUCCESS);
    CHECK(v.BaseAddress == v0.BaseAddress);

    /* The beginning position works like SeekToBeginning. */
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053000000000000)), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, &v, sizeof v), ERROR_SUCCESS);
    CHECK(v.BaseAddress == v0.BaseAddress);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_marker_restarts_on_other_snapshot(void)
{
    HPSS s1, s2, s3;
    HPSSWALK w;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s1), ERROR_SUCCESS);
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s2), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    PSS_THREAD_ENTRY t;
    CHECK_EQ(PssWalkSnapshot(s1, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s1, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_NO_MORE_ITEMS);
    CHECK_EQ(PssWalkSnapshot(s2, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s1, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s1), ERROR_SUCCESS);
    /* A new snapshot may reuse s1's address; the marker still notices it is new. */
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s3), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s3, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_SUCCESS);
    CHECK_EQ(t.ThreadId, getpid());
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s2), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s3), ERROR_SUCCESS);
    return 0;
}

int test_allocator_kept_by_pointer(void)
{
    struct test_alloc a, b;
    test_alloc_init(&a);
    test_alloc_init(&b);
    PSS_ALLOCATOR shared = a.allocator; /* Context = &a */
    HPSS s;
    HPSSWALK w;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &s), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(&shared, &w), ERROR_SUCCESS);
    CHECK_EQ(a.allocs, 1);
    /* Changing the structure after Create changes what the marker uses. */
    shared.Context = &b;
    PSS_HANDLE_ENTRY h;
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &h, sizeof h), ERROR_SUCCESS);
    CHECK_EQ(a.allocs, 1);
    CHECK(b.allocs >= 2); /* class state + table + strings */
    CHECK(test_alloc_owns(&b, h.TypeName));
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(a.outstanding + b.outstanding, 0);
    CHECK_EQ(a.foreign_frees + b.foreign_frees, 0);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_allocator_null_free_counted(void)
{
    struct test_alloc a;
    test_alloc_init(&a);
    HPSSWALK w;
    /* Fresh marker: four empty class slots and no table -> five NULL frees. */
    CHECK_EQ(PssWalkMarkerCreate(&a.allocator, &w), ERROR_SUCCESS);
    CHECK_EQ(a.allocs, 1);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(a.null_frees, 5);
    CHECK_EQ(a.frees, 1);
    CHECK_EQ(a.outstanding, 0);

    /* Threads of our own process carry no strings or contexts: one class state. */
    test_alloc_init(&a);
    HPSS s;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(&a.allocator, &w), ERROR_SUCCESS);
    PSS_THREAD_ENTRY t;
    while (PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t, sizeof t) == ERROR_SUCCESS)
        ;
    CHECK_EQ(a.allocs, 2);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(a.null_frees, 4); /* three unused classes + the table */
    CHECK_EQ(a.frees, 2);
    CHECK_EQ(a.outstanding, 0);
    CHECK_EQ(a.foreign_frees, 0);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_allocator_fail_create(void)
{
    struct test_alloc a;
    test_alloc_init(&a);
    a.fail_at = 0;
    HPSSWALK w = (HPSSWALK)0x1;
    CHECK_EQ(PssWalkMarkerCreate(&a.allocator, &w), ERROR_NOT_ENOUGH_MEMORY);
    CHECK(w == NULL);
    CHECK_EQ(a.allocs, 1);
    CHECK_EQ(a.outstanding, 0);
    CHECK_EQ(a.frees + a.null_frees, 0);
    return 0;
}

/* ---- failing at every allocation index ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* Hash of an entry with its pointers replaced by what they point to. */
static uint64_t hash_entry(int cls, const void *buf)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    if (cls == PSS_WALK_VA_SPACE) {
        PSS_VA_SPACE_ENTRY e;
        memcpy(&e, buf, sizeof e);
        if (e.MappedFileName)
            h = fnv(h, e.MappedFileName, e.MappedFileNameLength + 2u);
        e.MappedFileName = NULL;
        h = fnv(h, &e, sizeof e);
    } else if (cls == PSS_WALK_HANDLES) {
        PSS_HANDLE_ENTRY e;
        memcpy(&e, buf, sizeof e);
        if (e.TypeName)
            h = fnv(h, e.TypeName, e.TypeNameLength + 2u);
        if (e.ObjectName)
            h = fnv(h, e.ObjectName, e.ObjectNameLength + 2u);
        e.TypeName = e.ObjectName = NULL;
        memset(&e.CaptureTime, 0, sizeof e.CaptureTime);
        h = fnv(h, &e, sizeof e);
    } else if (cls == PSS_WALK_THREADS) {
        PSS_THREAD_ENTRY e;
        memcpy(&e, buf, sizeof e);
        if (e.ContextRecord)
            h = fnv(h, e.ContextRecord, sizeof(CONTEXT));
        e.ContextRecord = NULL;
        h = fnv(h, &e, sizeof e);
    }
    return h;
}

struct seq_result {
    long allocs;
    long enomem_calls;
    uint64_t hash;
    long entries;
};

/* create + walk every class to the end + free.  On ERROR_NOT_ENOUGH_MEMORY the test
 * checks that nothing changed, disables the failure and retries the same call. */
static int run_sequence(HPSS s, struct test_alloc *a, struct seq_result *r)
{
    memset(r, 0, sizeof *r);
    r->hash = UINT64_C(0xcbf29ce484222325);
    HPSSWALK w = NULL;
    DWORD rc = PssWalkMarkerCreate(&a->allocator, &w);
    if (rc == ERROR_NOT_ENOUGH_MEMORY) {
        r->enomem_calls++;
        CHECK(w == NULL);
        CHECK_EQ(a->outstanding, 0);
        a->fail_at = -1;
        rc = PssWalkMarkerCreate(&a->allocator, &w);
    }
    CHECK_EQ(rc, ERROR_SUCCESS);
    static const int order[4] = {PSS_WALK_VA_SPACE, PSS_WALK_HANDLES, PSS_WALK_THREADS,
                                 PSS_WALK_AUXILIARY_PAGES};
    for (int k = 0; k < 4; k++) {
        int cls = order[k];
        unsigned char buf[256];
        for (;;) {
            long before = a->outstanding;
            long long bytes_before = a->bytes_outstanding;
            ULONG_PTR pos_before, pos_after;
            CHECK_EQ(PssWalkMarkerGetPosition(w, &pos_before), ERROR_SUCCESS);
            memset(buf, 0x5A, sizeof buf);
            rc = PssWalkSnapshot(s, cls, w, buf, entry_sizes[cls]);
            if (rc == ERROR_NOT_ENOUGH_MEMORY) {
                r->enomem_calls++;
                CHECK_EQ(a->outstanding, before);
                CHECK_EQ(a->bytes_outstanding, bytes_before);
                CHECK_EQ(PssWalkMarkerGetPosition(w, &pos_after), ERROR_SUCCESS);
                CHECK_EQ(pos_after, pos_before);
                a->fail_at = -1; /* the marker must still be usable */
                continue;
            }
            if (rc == ERROR_NO_MORE_ITEMS)
                break;
            CHECK_EQ(rc, ERROR_SUCCESS);
            r->entries++;
            r->hash = fnv(r->hash, &cls, sizeof cls);
            uint64_t eh = hash_entry(cls, buf);
            r->hash = fnv(r->hash, &eh, sizeof eh);
        }
    }
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(a->outstanding, 0);
    CHECK_EQ(a->bytes_outstanding, 0);
    CHECK_EQ(a->foreign_frees, 0);
    r->allocs = a->allocs;
    return 0;
}

int test_allocator_fail_each_index(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "2", "--eventfds", "1", "--semaphores", "1", "--pipes",
                          "2", "--memfds", "1", "--pidfds", "1", "--maps", "4", NULL};
    TRY(fixture_start(&f, args));
    HPSS s;
    DWORD rc = test_capture_pid(f.pid, TEST_ALL_FLAGS | PSS_CAPTURE_THREAD_CONTEXT, CONTEXT_ALL,
                                &s);
    CHECK_EQ(fixture_stop(&f), 0);
    CHECK_EQ(rc, ERROR_SUCCESS);

    struct test_alloc a;
    struct seq_result clean, r;
    test_alloc_init(&a);
    TRY(run_sequence(s, &a, &clean));
    CHECK_EQ(clean.enomem_calls, 0);
    CHECK(clean.allocs > 20);
    for (long i = 0; i < clean.allocs; i++) {
        test_alloc_init(&a);
        a.fail_at = i;
        if (run_sequence(s, &a, &r) != 0) {
            test_fail(__FILE__, __LINE__, "failing allocation index %ld of %ld", i, clean.allocs);
            return 1;
        }
        CHECK_MSG(r.enomem_calls == 1, "index %ld: %ld ERROR_NOT_ENOUGH_MEMORY results", i,
                  r.enomem_calls);
        CHECK_MSG(r.hash == clean.hash && r.entries == clean.entries,
                  "index %ld: walk results differ from the clean run", i);
    }
    /* Two consecutive failures: the retry fails again, the third attempt works. */
    test_alloc_init(&a);
    a.fail_at = 3;
    a.fail_count = 2;
    TRY(run_sequence(s, &a, &r));
    CHECK_EQ(r.hash, clean.hash);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

struct thread_job {
    HPSS s;
    struct test_alloc *a;
    int result;
};

static void *thread_walk(void *p)
{
    struct thread_job *j = p;
    struct seq_result r;
    j->a->expected_thread = pthread_self();
    j->a->check_thread = true;
    j->result = run_sequence(j->s, j->a, &r);
    return NULL;
}

int test_allocator_calling_thread(void)
{
    HPSS s;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &s), ERROR_SUCCESS);
    struct test_alloc a;
    test_alloc_init(&a);
    a.expected_thread = pthread_self();
    a.check_thread = true;
    struct seq_result r;
    TRY(run_sequence(s, &a, &r));
    CHECK_EQ(a.wrong_thread_calls, 0);

    /* Create, walk and free from a second thread: the routines run there. */
    struct test_alloc b;
    test_alloc_init(&b);
    struct thread_job job = {s, &b, -1};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, thread_walk, &job) == 0);
    pthread_join(th, NULL);
    CHECK_EQ(job.result, 0);
    CHECK(b.allocs > 3);
    CHECK_EQ(b.wrong_thread_calls, 0);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_strings_outlive_snapshot(void)
{
    HPSS s;
    HPSSWALK w;
    struct test_alloc a;
    test_alloc_init(&a);
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &s), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(&a.allocator, &w), ERROR_SUCCESS);
    PSS_HANDLE_ENTRY h0, h0b;
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &h0, sizeof h0), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerSeekToBeginning(w), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &h0b, sizeof h0b), ERROR_SUCCESS);
    /* Walking the same entry again hands out the same copies (README "Re-walking"). */
    CHECK(h0.TypeName != NULL && h0b.TypeName == h0.TypeName && h0b.ObjectName == h0.ObjectName);
    CHECK(test_alloc_owns(&a, h0.TypeName) && test_alloc_owns(&a, h0.ObjectName));
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    /* Still readable after the snapshot is gone; NUL-terminated, length excludes it. */
    char type[64], name[512];
    test_utf16_to_ascii(h0.TypeName, h0.TypeNameLength, type, sizeof type);
    test_utf16_to_ascii(h0.ObjectName, h0.ObjectNameLength, name, sizeof name);
    CHECK_EQ(h0.TypeName[h0.TypeNameLength / 2], 0);
    CHECK_EQ(h0.ObjectName[h0.ObjectNameLength / 2], 0);
    char link[512];
    ssize_t n = readlink("/proc/self/fd/0", link, sizeof link - 1);
    CHECK(n > 0);
    link[n] = '\0';
    CHECK_MSG(strcmp(name, link) == 0, "fd 0 name %s != %s", name, link);
    CHECK(type[0] != '\0');
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(a.outstanding, 0);
    return 0;
}
