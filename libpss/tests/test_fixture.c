/*
 * test_fixture.c -- captures of pss-fixture compared with its JSON ground truth, with
 * readlink of /proc/PID/fd, and with /proc/PID/maps; thread contexts; a real process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

extern char **environ;

/* ---- walking helpers ---- */

struct walked {
    PSS_VA_SPACE_ENTRY *va;
    size_t nva;
    PSS_HANDLE_ENTRY *h;
    size_t nh;
    PSS_THREAD_ENTRY *t;
    size_t nt;
};

static int walk_all(HPSS s, HPSSWALK w, struct walked *out)
{
    memset(out, 0, sizeof *out);
    PSS_VA_SPACE_INFORMATION vi = {0};
    PSS_HANDLE_INFORMATION hi = {0};
    PSS_THREAD_INFORMATION ti = {0, 0};
    DWORD rc;
    if (PssQuerySnapshot(s, PSS_QUERY_VA_SPACE_INFORMATION, &vi, sizeof vi) == ERROR_SUCCESS) {
        out->va = calloc(vi.RegionCount + 1, sizeof *out->va);
        CHECK(out->va != NULL);
        while ((rc = PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, &out->va[out->nva],
                                     sizeof *out->va)) == ERROR_SUCCESS)
            CHECK(++out->nva <= vi.RegionCount);
        CHECK_EQ(rc, ERROR_NO_MORE_ITEMS);
        CHECK_EQ(out->nva, vi.RegionCount);
    }
    if (PssQuerySnapshot(s, PSS_QUERY_HANDLE_INFORMATION, &hi, sizeof hi) == ERROR_SUCCESS) {
        out->h = calloc(hi.HandlesCaptured + 1, sizeof *out->h);
        CHECK(out->h != NULL);
        while ((rc = PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &out->h[out->nh], sizeof *out->h)) ==
               ERROR_SUCCESS)
            CHECK(++out->nh <= hi.HandlesCaptured);
        CHECK_EQ(rc, ERROR_NO_MORE_ITEMS);
        CHECK_EQ(out->nh, hi.HandlesCaptured);
    }
    if (PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, &ti, sizeof ti) == ERROR_SUCCESS) {
        out->t = calloc(ti.ThreadsCaptured + 1, sizeof *out->t);
        CHECK(out->t != NULL);
        while ((rc = PssWalkSnapshot(s, PSS_WALK_THREADS, w, &out->t[out->nt], sizeof *out->t)) ==
               ERROR_SUCCESS)
            CHECK(++out->nt <= ti.ThreadsCaptured);
        CHECK_EQ(rc, ERROR_NO_MORE_ITEMS);
        CHECK_EQ(out->nt, ti.ThreadsCaptured);
    }
    return 0;
}

static void walked_free(struct walked *w)
{
    free(w->va);
    free(w->h);
    free(w->t);
}

static const PSS_VA_SPACE_ENTRY *va_containing(const struct walked *w, uint64_t addr)
{
    size_t lo = 0, hi = w->nva;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t b = (uint64_t)(uintptr_t)w->va[mid].BaseAddress;
        if (addr < b)
            hi = mid;
        else if (addr >= b + w->va[mid].RegionSize)
            lo = mid + 1;
        else
            return &w->va[mid];
    }
    return NULL;
}

static const PSS_HANDLE_ENTRY *handle_of(const struct walked *w, long fd)
{
    for (size_t i = 0; i < w->nh; i++)
        if ((long)(uintptr_t)w->h[i].Handle == fd)
            return &w->h[i];
    return NULL;
}

/* The VA walk covers [mmap_min_addr, top) without gaps or overlaps, in order. */
static int check_va_invariants(const struct walked *w)
{
    CHECK(w->nva > 0);
    uint64_t expect = (uint64_t)(uintptr_t)w->va[0].BaseAddress;
    CHECK(expect <= 65536);
    for (size_t i = 0; i < w->nva; i++) {
        const PSS_VA_SPACE_ENTRY *e = &w->va[i];
        uint64_t b = (uint64_t)(uintptr_t)e->BaseAddress;
        if (b >= UINT64_C(0xffff800000000000)) { /* [vsyscall], after the last free gap */
            CHECK_EQ(expect, UINT64_C(0x7ffffffff000));
            continue;
        }
        CHECK_MSG(b == expect, "entry %zu at 0x%llx, expected 0x%llx", i, (unsigned long long)b,
                  (unsigned long long)expect);
        CHECK(e->RegionSize > 0 && (e->RegionSize & 0xFFF) == 0);
        if (e->State == MEM_FREE) {
            CHECK_EQ(e->Type, 0);
            CHECK(e->AllocationBase == NULL);
            CHECK_EQ(e->Protect, PAGE_NOACCESS);
            CHECK(i == 0 || w->va[i - 1].State != MEM_FREE); /* gaps are merged */
        } else {
            CHECK(e->State == MEM_COMMIT || e->State == MEM_RESERVE);
            CHECK(e->Type == MEM_PRIVATE || e->Type == MEM_MAPPED || e->Type == MEM_IMAGE);
            CHECK((uint64_t)(uintptr_t)e->AllocationBase <= b);
        }
        expect = b + e->RegionSize;
    }
    return 0;
}

static int name_equals(const WCHAR *s, WORD len, const char *expect, const char *what)
{
    char buf[4200];
    if (expect == NULL) {
        CHECK_MSG(s == NULL && len == 0, "%s: expected no name", what);
        return 0;
    }
    CHECK_MSG(s != NULL, "%s: name missing (expected %s)", what, expect);
    test_utf16_to_ascii(s, len, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, expect) == 0, "%s: name '%s' != '%s'", what, buf, expect);
    return 0;
}

static int count_dir_numbers(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
            n++;
    closedir(d);
    return n;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Compares a full walk with the fixture's JSON. */
static int verify_fixture(const struct fixture *f, const struct walked *w, bool check_maps_file)
{
    const struct json *j = f->json;
    const long pid = (long)json_int(j, "pid", -1);
    CHECK_EQ(pid, f->pid);

    /* Threads: exactly the fixture's tids. */
    const struct json *tids = json_get(j, "tids");
    CHECK(tids != NULL);
    CHECK_EQ(w->nt, tids->count);
    for (const struct json *t = tids->child; t; t = t->next) {
        bool found = false;
        for (size_t i = 0; i < w->nt && !found; i++) {
            if (w->t[i].ThreadId != (DWORD)t->inum)
                continue;
            found = true;
            const PSS_THREAD_ENTRY *e = &w->t[i];
            CHECK_EQ(e->ProcessId, pid);
            CHECK_EQ(e->ExitStatus, STILL_ACTIVE);
            CHECK_EQ(e->Flags, 0);
            CHECK_EQ(e->SuspendCount, 0);
            CHECK(e->AffinityMask != 0);
            CHECK(e->CreateTime.dwHighDateTime != 0);
            CHECK(e->CaptureTime.dwHighDateTime != 0);
            DWORD want_class;
            LONG want_base;
            test_expected_priority(&want_class, &want_base);
            CHECK_EQ(e->BasePriority, want_base);
            CHECK_EQ(e->Priority, want_base);
        }
        CHECK_MSG(found, "thread %lld not walked", t->inum);
    }

    /* Handles: every fd, with the expected type, names and basic information. */
    const struct json *fds = json_get(j, "fds");
    CHECK(fds != NULL);
    CHECK_MSG(w->nh == fds->count, "%zu handles walked, fixture has %zu fds", w->nh, fds->count);
    for (const struct json *fd = fds->child; fd; fd = fd->next) {
        long num = (long)json_int(fd, "fd", -1);
        const PSS_HANDLE_ENTRY *e = handle_of(w, num);
        char what[64];
        snprintf(what, sizeof what, "fd %ld (%s)", num, json_str(fd, "kind"));
        CHECK_MSG(e != NULL, "%s not walked", what);
        TRY(name_equals(e->ObjectName, e->ObjectNameLength, json_str(fd, "name"), what));
        CHECK(e->Flags & PSS_HANDLE_HAVE_TYPE);
        CHECK(e->Flags & PSS_HANDLE_HAVE_NAME);
        CHECK(e->Flags & PSS_HANDLE_HAVE_BASIC_INFORMATION);
        CHECK(e->TypeName != NULL);
        if (json_is_null(fd, "object_type"))
            continue; /* inherited: name only */
        CHECK_MSG(e->ObjectType == json_int(fd, "object_type", -1), "%s: ObjectType %d", what,
                  e->ObjectType);
        TRY(name_equals(e->TypeName, e->TypeNameLength, json_str(fd, "type_name"), what));
        CHECK_MSG(e->GrantedAccess == (DWORD)json_int(fd, "granted_access", -1),
                  "%s: GrantedAccess 0x%x, expected 0x%llx", what, e->GrantedAccess,
                  json_int(fd, "granted_access", -1));
        CHECK_MSG(e->Attributes == (DWORD)json_int(fd, "attributes", -1), "%s: Attributes %u",
                  what, e->Attributes);
        CHECK_MSG(e->HandleCount == (DWORD)json_int(fd, "handle_count", -1),
                  "%s: HandleCount %u", what, e->HandleCount);
        CHECK_EQ(e->PointerCount, e->HandleCount);
        bool specific = e->ObjectType != PSS_OBJECT_TYPE_UNKNOWN;
        CHECK_MSG(((e->Flags & PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION) != 0) == specific,
                  "%s: Flags 0x%x", what, e->Flags);
        switch (e->ObjectType) {
        case PSS_OBJECT_TYPE_EVENT:
            CHECK_EQ(e->TypeSpecificInformation.Event.ManualReset, 0);
            CHECK_EQ(e->TypeSpecificInformation.Event.Signaled, json_int(fd, "count", -1) != 0);
            break;
        case PSS_OBJECT_TYPE_SEMAPHORE:
            CHECK_EQ(e->TypeSpecificInformation.Semaphore.CurrentCount, json_int(fd, "count", -1));
            CHECK_EQ(e->TypeSpecificInformation.Semaphore.MaximumCount, 0x7FFFFFFF);
            break;
        case PSS_OBJECT_TYPE_PROCESS:
            CHECK_EQ(e->TypeSpecificInformation.Process.ProcessId, json_int(fd, "pid", -1));
            CHECK_EQ(e->TypeSpecificInformation.Process.ParentProcessId, getpid());
            CHECK_EQ(e->TypeSpecificInformation.Process.ExitStatus, STILL_ACTIVE);
            {
                DWORD want_class;
                LONG want_base;
                test_expected_priority(&want_class, &want_base);
                CHECK_EQ(e->TypeSpecificInformation.Process.BasePriority, want_base);
            }
            CHECK(e->CreationTime.dwHighDateTime != 0);
            break;
        case PSS_OBJECT_TYPE_THREAD:
            CHECK_EQ(e->TypeSpecificInformation.Thread.ThreadId, json_int(fd, "tid", -1));
            CHECK_EQ(e->TypeSpecificInformation.Thread.ProcessId, json_int(fd, "pid", -1));
            CHECK_EQ(e->TypeSpecificInformation.Thread.ExitStatus, STILL_ACTIVE);
            break;
        case PSS_OBJECT_TYPE_SECTION: {
            CHECK_EQ(e->TypeSpecificInformation.Section.MaximumSize.QuadPart,
                     json_int(fd, "section_size", -1));
            CHECK_EQ(e->TypeSpecificInformation.Section.AllocationAttributes, SEC_COMMIT);
            const char *base = json_str(fd, "section_base");
            uint64_t expect = base ? strtoull(base, NULL, 16) : 0;
            CHECK_MSG((uint64_t)(uintptr_t)e->TypeSpecificInformation.Section.BaseAddress ==
                          expect,
                      "%s: section base %p, expected 0x%llx", what,
                      e->TypeSpecificInformation.Section.BaseAddress, (unsigned long long)expect);
            break;
        }
        default:
            break;
        }
    }

    /* Mappings: protection, type, state, name and allocation base, exactly. */
    TRY(check_va_invariants(w));
    const struct json *maps = json_get(j, "maps");
    CHECK(maps != NULL);
    for (const struct json *m = maps->child; m; m = m->next) {
        uint64_t start = strtoull(json_str(m, "start"), NULL, 16);
        const PSS_VA_SPACE_ENTRY *e = va_containing(w, start);
        char what[64];
        snprintf(what, sizeof what, "map 0x%llx %s", (unsigned long long)start,
                 json_str(m, "prot"));
        CHECK_MSG(e != NULL && (uint64_t)(uintptr_t)e->BaseAddress == start, "%s: not an entry",
                  what);
        CHECK_EQ(e->RegionSize, json_int(m, "size", 0));
        CHECK_MSG(e->Protect == (DWORD)json_int(m, "protect", -1), "%s: Protect 0x%x", what,
                  e->Protect);
        CHECK_MSG(e->Type == (DWORD)json_int(m, "type", -1), "%s: Type 0x%x", what, e->Type);
        CHECK_MSG(e->State == (DWORD)json_int(m, "state", -1), "%s: State 0x%x", what, e->State);
        CHECK(e->AllocationBase == e->BaseAddress);
        CHECK_EQ(e->AllocationProtect, e->Protect);
        CHECK_EQ(e->SizeOfImage, 0);
        if (check_maps_file)
            TRY(name_equals(e->MappedFileName, e->MappedFileNameLength, json_str(m, "file"), what));
    }

    /* Every VMA of maps is one non-free entry; the executable is an image. */
    char path[64], exe[4096];
    snprintf(path, sizeof path, "/proc/%ld/maps", pid);
    size_t nonfree = 0;
    for (size_t i = 0; i < w->nva; i++)
        nonfree += w->va[i].State != MEM_FREE;
    CHECK_EQ((long)nonfree, count_lines(path));
    snprintf(path, sizeof path, "/proc/%ld/exe", pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n] = '\0';
    size_t images = 0;
    for (size_t i = 0; i < w->nva; i++) {
        const PSS_VA_SPACE_ENTRY *e = &w->va[i];
        if (e->Type != MEM_IMAGE || e->MappedFileName == NULL)
            continue;
        char nm[4200];
        test_utf16_to_ascii(e->MappedFileName, e->MappedFileNameLength, nm, sizeof nm);
        if (strcmp(nm, exe) == 0) {
            images++;
            CHECK(e->SizeOfImage > 0);
            CHECK(e->CheckSum != 0); /* build-id */
            CHECK(e->ImageBase == NULL); /* PIE */
            CHECK(e->AllocationBase <= e->BaseAddress);
        }
    }
    CHECK_MSG(images >= 3, "only %zu image VMAs of %s", images, exe);
    return 0;
}

int test_fixture_small_walk_matches(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "3", "--eventfds", "3", "--semaphores", "2", "--pipes", "5",
                          "--sockets", "7", "--memfds", "11", "--files", "10", "--dups", "3",
                          "--dirs", "2", "--timerfds", "2", "--epolls", "2", "--pidfds", "4",
                          "--signalfds", "1", "--inotifys", "1", "--devices", "1", "--maps", "20",
                          "--elfmaps", "3", NULL};
    TRY(fixture_start(&f, args));
    HPSS s;
    HPSSWALK w;
    struct test_alloc a;
    test_alloc_init(&a);
    DWORD rc = test_capture_pid(f.pid, TEST_ALL_FLAGS, 0, &s);
    if (rc != ERROR_SUCCESS) {
        fixture_stop(&f);
        CHECK_EQ(rc, ERROR_SUCCESS);
    }
    CHECK_EQ(PssWalkMarkerCreate(&a.allocator, &w), ERROR_SUCCESS);
    struct walked wk;
    int bad = walk_all(s, w, &wk);
    if (bad == 0)
        bad = verify_fixture(&f, &wk, true);
    PSS_PROCESS_INFORMATION pi;
    if (bad == 0 && PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi) == 0) {
        bad |= pi.ProcessId != (DWORD)f.pid || pi.ParentProcessId != (DWORD)getpid() ||
               pi.Flags != 0;
        if (bad)
            test_fail(__FILE__, __LINE__, "process information");
    }
    walked_free(&wk);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(a.outstanding, 0);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    CHECK_EQ(fixture_stop(&f), 0);
    return bad;
}

int test_fixture_handles_match_readlink(void)
{
    struct fixture f;
    const char *args[] = {"--eventfds", "2", "--pipes", "4", "--sockets", "4", "--memfds", "2",
                          "--files", "5", "--dirs", "2", "--timerfds", "1", "--pidfds", "2",
                          NULL};
    TRY(fixture_start(&f, args));
    HPSS s;
    DWORD rc = test_capture_pid(f.pid, PSS_CAPTURE_HANDLES | PSS_CAPTURE_HANDLE_NAME_INFORMATION,
                                0, &s);
    if (rc != ERROR_SUCCESS)
        fixture_stop(&f);
    CHECK_EQ(rc, ERROR_SUCCESS);
    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    struct walked wk;
    int bad = walk_all(s, w, &wk);
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)f.pid);
    if (bad == 0 && (long)wk.nh != count_dir_numbers(dir)) {
        test_fail(__FILE__, __LINE__, "%zu handles, %d entries in %s", wk.nh,
                  count_dir_numbers(dir), dir);
        bad = 1;
    }
    for (size_t i = 0; bad == 0 && i < wk.nh; i++) {
        const PSS_HANDLE_ENTRY *e = &wk.h[i];
        char path[96], link[4200];
        snprintf(path, sizeof path, "%s/%lu", dir, (unsigned long)(uintptr_t)e->Handle);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n < 0) {
            test_fail(__FILE__, __LINE__, "readlink %s: %s", path, strerror(errno));
            bad = 1;
            break;
        }
        link[n] = '\0';
        bad = name_equals(e->ObjectName, e->ObjectNameLength, link, path);
        /* Without BASIC/TYPE_SPECIFIC only type and name are valid. */
        if (bad == 0 && e->Flags != (PSS_HANDLE_HAVE_TYPE | PSS_HANDLE_HAVE_NAME)) {
            test_fail(__FILE__, __LINE__, "%s: Flags 0x%x", path, e->Flags);
            bad = 1;
        }
        if (bad == 0 && (e->HandleCount != 0 || e->GrantedAccess != 0)) {
            test_fail(__FILE__, __LINE__, "%s: basic information without the flag", path);
            bad = 1;
        }
    }
    walked_free(&wk);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    CHECK_EQ(fixture_stop(&f), 0);
    return bad;
}

int test_fixture_big_walk_matches(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "200", "--eventfds", "300", "--pipes", "400", "--sockets",
                          "300", "--memfds", "200", "--files", "500", "--dirs", "100",
                          "--timerfds", "100", "--epolls", "50", "--pidfds", "50", "--maps",
                          "5000", NULL};
    TRY(fixture_start(&f, args));
    HPSS s;
    DWORD rc = test_capture_pid(f.pid, TEST_ALL_FLAGS, 0, &s);
    if (rc != ERROR_SUCCESS)
        fixture_stop(&f);
    CHECK_EQ(rc, ERROR_SUCCESS);
    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    struct walked wk;
    int bad = walk_all(s, w, &wk);
    if (bad == 0)
        bad = verify_fixture(&f, &wk, true);
    if (bad == 0 && (wk.nt != 201 || wk.nh < 2000)) {
        test_fail(__FILE__, __LINE__, "%zu threads, %zu handles", wk.nt, wk.nh);
        bad = 1;
    }
    walked_free(&wk);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    CHECK_EQ(fixture_stop(&f), 0);
    return bad;
}

/* ---- thread contexts ---- */

static long tracer_of(pid_t pid, pid_t tid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    long tracer = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "TracerPid:", 10) == 0)
            tracer = strtol(line + 10, NULL, 10);
    fclose(f);
    return tracer;
}

static int check_contexts(const struct fixture *f, const struct walked *wk, bool stopped)
{
    const struct json *tids = json_get(f->json, "tids");
    CHECK_EQ(wk->nt, tids->count);
    for (size_t i = 0; i < wk->nt; i++) {
        const PSS_THREAD_ENTRY *t = &wk->t[i];
        CHECK_EQ(t->SizeOfContextRecord, sizeof(CONTEXT));
        CHECK(t->ContextRecord != NULL);
        const CONTEXT *c = t->ContextRecord;
        CHECK_EQ(c->ContextFlags, CONTEXT_ALL);
        CHECK(c->Rip != 0 && c->Rsp != 0);
        const PSS_VA_SPACE_ENTRY *code = va_containing(wk, c->Rip);
        const PSS_VA_SPACE_ENTRY *stack = va_containing(wk, c->Rsp);
        CHECK_MSG(code != NULL && code->State == MEM_COMMIT &&
                      (code->Protect == PAGE_EXECUTE_READ || code->Protect == PAGE_EXECUTE),
                  "thread %u: Rip 0x%llx not in executable memory", t->ThreadId,
                  (unsigned long long)c->Rip);
        CHECK_MSG(stack != NULL && stack->State == MEM_COMMIT &&
                      (stack->Protect == PAGE_READWRITE || stack->Protect == PAGE_WRITECOPY),
                  "thread %u: Rsp 0x%llx not in writable memory", t->ThreadId,
                  (unsigned long long)c->Rsp);
        CHECK(t->TebBaseAddress != NULL);
        CHECK(va_containing(wk, (uint64_t)(uintptr_t)t->TebBaseAddress) != NULL);
        CHECK_EQ(c->SegCs, 0x33);
        CHECK_EQ(c->SegSs, 0x2b);
        CHECK(c->MxCsr != 0);
        CHECK_EQ(c->MxCsr, c->FltSave.MxCsr);
        CHECK(c->EFlags & 0x2); /* bit 1 is always set */
        CHECK_EQ(t->SuspendCount, stopped ? 1 : 0);
        if (!stopped)
            CHECK_MSG(t->LastSyscallNumber != 0, "thread %u: no syscall", t->ThreadId);
    }
    return 0;
}

int test_thread_context_fixture(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "4", "--maps", "3", "--eventfds", "1", NULL};
    TRY(fixture_start(&f, args));
    HPSS s;
    HPSSWALK w;
    struct test_alloc a;
    test_alloc_init(&a);
    DWORD flags = PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT | PSS_CAPTURE_VA_SPACE |
                  PSS_CAPTURE_HANDLES | PSS_CREATE_MEASURE_PERFORMANCE;
    int bad = 0;
    for (int round = 0; round < 2 && bad == 0; round++) {
        const bool stopped = round == 1;
        if (stopped) {
            kill(f.pid, SIGSTOP);
            for (int i = 0; i < 2000 && test_task_state(f.pid, f.pid) != 'T'; i++) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
        }
        DWORD rc = test_capture_pid(f.pid, flags, CONTEXT_ALL, &s);
        if (rc != ERROR_SUCCESS) {
            test_fail(__FILE__, __LINE__, "capture with context: %u", rc);
            bad = 1;
            break;
        }
        PSS_THREAD_INFORMATION ti;
        CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, &ti, sizeof ti), ERROR_SUCCESS);
        CHECK_EQ(ti.ContextLength, sizeof(CONTEXT));
        PSS_PROCESS_INFORMATION pi;
        CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi), ERROR_SUCCESS);
        CHECK_EQ(pi.Flags & PSS_PROCESS_FLAGS_FROZEN, stopped ? PSS_PROCESS_FLAGS_FROZEN : 0);
        CHECK_EQ(PssWalkMarkerCreate(&a.allocator, &w), ERROR_SUCCESS);
        struct walked wk;
        bad = walk_all(s, w, &wk);
        if (bad == 0)
            bad = check_contexts(&f, &wk, stopped);
        if (bad == 0) {
            /* Contexts are copies from the caller's allocator. */
            for (size_t i = 0; i < wk.nt && bad == 0; i++)
                bad = !test_alloc_owns(&a, wk.t[i].ContextRecord);
        }
        walked_free(&wk);
        CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
        CHECK_EQ(a.outstanding, 0);
        CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
        /* Detached: nobody traces the fixture; a stopped fixture stays stopped. */
        const struct json *tids = json_get(f.json, "tids");
        for (const struct json *t = tids->child; t && bad == 0; t = t->next) {
            if (tracer_of(f.pid, (pid_t)t->inum) != 0) {
                test_fail(__FILE__, __LINE__, "thread %lld still traced", t->inum);
                bad = 1;
            }
            /* After PTRACE_DETACH a job-stopped thread is woken and re-enters its group
             * stop, so give it a moment to show 'T' again. */
            char st = test_task_state(f.pid, (pid_t)t->inum);
            for (int k = 0; stopped && st != 'T' && k < 1000; k++) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
                st = test_task_state(f.pid, (pid_t)t->inum);
            }
            if (stopped ? st != 'T' : (st != 'S' && st != 'R')) {
                test_fail(__FILE__, __LINE__, "thread %lld in state %c", t->inum, st);
                bad = 1;
            }
        }
        if (stopped && bad == 0) {
            /* Without the ptrace freeze the job-control stop shows the same way. */
            DWORD rc2 = test_capture_pid(f.pid, PSS_CAPTURE_THREADS, 0, &s);
            CHECK_EQ(rc2, ERROR_SUCCESS);
            CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi),
                     ERROR_SUCCESS);
            CHECK_EQ(pi.Flags & PSS_PROCESS_FLAGS_FROZEN, PSS_PROCESS_FLAGS_FROZEN);
            CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
            PSS_THREAD_ENTRY te;
            size_t n = 0;
            while (PssWalkSnapshot(s, PSS_WALK_THREADS, w, &te, sizeof te) == ERROR_SUCCESS) {
                n++;
                CHECK_EQ(te.SuspendCount, 1);
                CHECK(te.ContextRecord == NULL && te.SizeOfContextRecord == 0);
                CHECK(te.TebBaseAddress == NULL);
            }
            CHECK_EQ(n, 5);
            CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
            CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
        }
        if (stopped)
            kill(f.pid, SIGCONT);
    }
    if (bad) {
        kill(f.pid, SIGCONT);
        fixture_kill(&f);
        return 1;
    }
    /* The fixture still works normally: it exits 0 on stdin EOF. */
    CHECK_EQ(fixture_stop(&f), 0);
    return 0;
}

int test_thread_context_self_not_supported(void)
{
    HPSS s;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREAD_CONTEXT, CONTEXT_ALL, &s),
             ERROR_NOT_SUPPORTED);
    HANDLE h;
    CHECK_EQ(PssLinuxOpenProcess((DWORD)getpid(), &h), ERROR_SUCCESS);
    CHECK_EQ(PssCaptureSnapshot(h, PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT,
                                CONTEXT_CONTROL, &s),
             ERROR_NOT_SUPPORTED);
    CHECK_EQ(PssLinuxCloseProcess(h), ERROR_SUCCESS);
    return 0;
}

/* ---- a real process ---- */

static DWORD protect_from_perms(const char *perms, bool file)
{
    bool r = perms[0] == 'r', w = perms[1] == 'w', x = perms[2] == 'x', p = perms[3] == 'p';
    bool cow = p && file;
    if (x)
        return w ? (cow ? PAGE_EXECUTE_WRITECOPY : PAGE_EXECUTE_READWRITE)
                 : (r ? PAGE_EXECUTE_READ : PAGE_EXECUTE);
    if (w)
        return cow ? PAGE_WRITECOPY : PAGE_READWRITE;
    return r ? PAGE_READONLY : PAGE_NOACCESS;
}

int test_real_process_sleep(void)
{
    pid_t pid;
    char *argv[] = {"sleep", "30", NULL};
    CHECK(posix_spawn(&pid, "/bin/sleep", NULL, NULL, argv, environ) == 0);
    /* Wait until it runs sleep (exe switched from us to /bin/sleep). */
    char path[64], exe[4096];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    for (int i = 0; i < 2000; i++) {
        ssize_t n = readlink(path, exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            if (strstr(exe, "sleep") != NULL && test_task_state(pid, pid) == 'S')
                break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    HPSS s;
    DWORD rc = test_capture_pid(pid, TEST_ALL_FLAGS, 0, &s);
    int bad = rc != ERROR_SUCCESS;
    if (bad)
        test_fail(__FILE__, __LINE__, "capture sleep: %u", rc);
    struct walked wk;
    memset(&wk, 0, sizeof wk);
    HPSSWALK w = NULL;
    if (!bad) {
        PssWalkMarkerCreate(NULL, &w);
        bad = walk_all(s, w, &wk);
    }
    if (!bad) {
        /* ps -T: one thread, the process itself. */
        bad = wk.nt != 1 || wk.t[0].ThreadId != (DWORD)pid;
        /* ls -l /proc/PID/fd: same fds and link texts. */
        snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
        bad |= (long)wk.nh != count_dir_numbers(path);
        for (size_t i = 0; !bad && i < wk.nh; i++) {
            char fdp[96], link[4200];
            snprintf(fdp, sizeof fdp, "%s/%lu", path, (unsigned long)(uintptr_t)wk.h[i].Handle);
            ssize_t n = readlink(fdp, link, sizeof link - 1);
            bad = n < 0;
            if (!bad) {
                link[n] = '\0';
                bad = name_equals(wk.h[i].ObjectName, wk.h[i].ObjectNameLength, link, fdp);
            }
        }
        if (bad)
            test_fail(__FILE__, __LINE__, "threads/handles differ from /proc");
    }
    if (!bad) {
        /* /proc/PID/maps: every line is an entry with the same range and protection. */
        bad = check_va_invariants(&wk);
        snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
        FILE *mf = fopen(path, "re");
        char line[4200];
        size_t lines = 0;
        while (!bad && mf != NULL && fgets(line, sizeof line, mf)) {
            unsigned long long lo, hi, off, ino;
            char perms[8], dev[16];
            int consumed = 0;
            if (sscanf(line, "%llx-%llx %7s %llx %15s %llu %n", &lo, &hi, perms, &off, dev, &ino,
                       &consumed) < 6) {
                bad = 1;
                break;
            }
            lines++;
            char *name = line + consumed;
            name[strcspn(name, "\n")] = '\0';
            const PSS_VA_SPACE_ENTRY *e = va_containing(&wk, lo);
            bool file = ino != 0;
            if (e == NULL || (uint64_t)(uintptr_t)e->BaseAddress != lo ||
                e->RegionSize != hi - lo || e->Protect != protect_from_perms(perms, file)) {
                test_fail(__FILE__, __LINE__, "maps line %s", line);
                bad = 1;
                break;
            }
            bad = name_equals(e->MappedFileName, e->MappedFileNameLength, name[0] ? name : NULL,
                              line);
            if (!bad && file && strstr(name, "libc.so") != NULL && e->Type != MEM_IMAGE) {
                test_fail(__FILE__, __LINE__, "libc VMA not MEM_IMAGE: %s", line);
                bad = 1;
            }
            if (!bad && strcmp(name, "[heap]") == 0 && e->Type != MEM_PRIVATE)
                bad = 1;
        }
        if (mf != NULL)
            fclose(mf);
        size_t nonfree = 0;
        for (size_t i = 0; i < wk.nva; i++)
            nonfree += wk.va[i].State != MEM_FREE;
        if (!bad && nonfree != lines) {
            test_fail(__FILE__, __LINE__, "%zu VMAs walked, %zu maps lines", nonfree, lines);
            bad = 1;
        }
    }
    if (!bad) {
        PSS_PROCESS_INFORMATION pi;
        PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi);
        char name[600];
        size_t len = 0;
        while (len < MAX_PATH && pi.ImageFileName[len])
            len++;
        test_utf16_to_ascii(pi.ImageFileName, (WORD)(len * 2), name, sizeof name);
        bad = strcmp(name, exe) != 0 || pi.ParentProcessId != (DWORD)getpid() ||
              pi.ProcessId != (DWORD)pid;
        if (bad)
            test_fail(__FILE__, __LINE__, "process information: %s", name);
    }
    walked_free(&wk);
    if (w != NULL)
        PssWalkMarkerFree(w);
    if (rc == ERROR_SUCCESS)
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return bad;
}
