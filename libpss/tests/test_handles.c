/*
 * test_handles.c -- handle entries that must stay right while the target changes under
 * the capture (fd reuse, fds closing, exec, exit), fds whose path is longer than
 * PATH_MAX, creation times, and image regions that the kernel merged with anonymous
 * memory.  The coherence rules below are the mechanical definition of an "internally
 * inconsistent" entry used by the churn tests (libpss/README.md, "Handles under change").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

extern char **environ;

#define FT_1970 UINT64_C(116444736000000000) /* 1970-01-01 as a FILETIME */

static uint64_t ft64(FILETIME t)
{
    return ((uint64_t)t.dwHighDateTime << 32) | t.dwLowDateTime;
}

/* ---- walking ---- */

struct hv {
    PSS_HANDLE_ENTRY *h;
    size_t nh;
    PSS_VA_SPACE_ENTRY *va;
    size_t nva;
    PSS_THREAD_ENTRY *t;
    size_t nt;
};

static int walk_hv(HPSS s, HPSSWALK w, struct hv *out)
{
    memset(out, 0, sizeof *out);
    DWORD rc;
    PSS_HANDLE_INFORMATION hi = {0};
    if (PssQuerySnapshot(s, PSS_QUERY_HANDLE_INFORMATION, &hi, sizeof hi) == ERROR_SUCCESS) {
        out->h = calloc(hi.HandlesCaptured + 1, sizeof *out->h);
        CHECK(out->h != NULL);
        while ((rc = PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &out->h[out->nh],
                                     sizeof *out->h)) == ERROR_SUCCESS)
            CHECK(++out->nh <= hi.HandlesCaptured);
        CHECK_EQ(rc, ERROR_NO_MORE_ITEMS);
        CHECK_EQ(out->nh, hi.HandlesCaptured);
    }
    PSS_VA_SPACE_INFORMATION vi = {0};
    if (PssQuerySnapshot(s, PSS_QUERY_VA_SPACE_INFORMATION, &vi, sizeof vi) == ERROR_SUCCESS) {
        out->va = calloc(vi.RegionCount + 1, sizeof *out->va);
        CHECK(out->va != NULL);
        while ((rc = PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, &out->va[out->nva],
                                     sizeof *out->va)) == ERROR_SUCCESS)
            CHECK(++out->nva <= vi.RegionCount);
        CHECK_EQ(rc, ERROR_NO_MORE_ITEMS);
    }
    PSS_THREAD_INFORMATION ti = {0, 0};
    if (PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, &ti, sizeof ti) == ERROR_SUCCESS) {
        out->t = calloc(ti.ThreadsCaptured + 1, sizeof *out->t);
        CHECK(out->t != NULL);
        while ((rc = PssWalkSnapshot(s, PSS_WALK_THREADS, w, &out->t[out->nt],
                                     sizeof *out->t)) == ERROR_SUCCESS)
            CHECK(++out->nt <= ti.ThreadsCaptured);
        CHECK_EQ(rc, ERROR_NO_MORE_ITEMS);
    }
    return 0;
}

static void hv_free(struct hv *v)
{
    free(v->h);
    free(v->va);
    free(v->t);
}

static const PSS_HANDLE_ENTRY *find_handle(const struct hv *v, long fd)
{
    for (size_t i = 0; i < v->nh; i++)
        if ((long)(uintptr_t)v->h[i].Handle == fd)
            return &v->h[i];
    return NULL;
}

static bool starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* ---- coherence: what one handle entry may say about itself ---- */

static const char *const anon_name_of[][2] = {
    {"EventFd", "anon_inode:[eventfd]"},       {"Timer", "anon_inode:[timerfd]"},
    {"Epoll", "anon_inode:[eventpoll]"},       {"SignalFd", "anon_inode:[signalfd]"},
    {"Inotify", "anon_inode:inotify"},         {"Fanotify", "anon_inode:[fanotify]"},
    {"UserFaultFd", "anon_inode:[userfaultfd]"}, {"PidFd", "anon_inode:[pidfd]"},
};

static bool is_path_type(const char *tn)
{
    static const char *const path_types[] = {"File",    "Directory", "Device",
                                             "MemFd",   "Shm",       "Section",
                                             "MessageQueue", "Socket", "Pipe"};
    for (size_t i = 0; i < sizeof path_types / sizeof path_types[0]; i++)
        if (strcmp(tn, path_types[i]) == 0)
            return true;
    return false;
}

#define GA_R FILE_GENERIC_READ
#define GA_W FILE_GENERIC_WRITE
#define GA_WA (FILE_GENERIC_WRITE & ~FILE_WRITE_DATA)
#define GA_PATH (FILE_READ_ATTRIBUTES | SYNCHRONIZE)

static bool file_mask(DWORD a)
{
    return a == GA_R || a == GA_W || a == GA_WA || a == (GA_R | GA_W) || a == (GA_R | GA_WA) ||
           a == GA_PATH;
}

/* Returns NULL if the entry is coherent, else why not.  `want_name` says whether
 * HANDLE_NAME_INFORMATION was requested. */
static const char *handle_incoherence(const PSS_HANDLE_ENTRY *e, bool want_name)
{
    static __thread char why[320];
    char tn[128], nm[4400];
    if (!(e->Flags & PSS_HANDLE_HAVE_TYPE) || e->TypeName == NULL || e->TypeNameLength == 0)
        return "no type";
    test_utf16_to_ascii(e->TypeName, e->TypeNameLength, tn, sizeof tn);
    bool have_name = (e->Flags & PSS_HANDLE_HAVE_NAME) != 0;
    nm[0] = '\0';
    if (have_name) {
        if (e->ObjectName == NULL || e->ObjectNameLength == 0)
            return "HAVE_NAME without a name";
        test_utf16_to_ascii(e->ObjectName, e->ObjectNameLength, nm, sizeof nm);
    } else if (e->ObjectName != NULL || e->ObjectNameLength != 0) {
        return "a name without HAVE_NAME";
    }

    /* ObjectType <-> TypeName */
    bool ev = strcmp(tn, "EventFd") == 0, pid = strcmp(tn, "PidFd") == 0;
    bool sec = strcmp(tn, "MemFd") == 0 || strcmp(tn, "Shm") == 0 || strcmp(tn, "Section") == 0;
    switch (e->ObjectType) {
    case PSS_OBJECT_TYPE_EVENT:
    case PSS_OBJECT_TYPE_SEMAPHORE:
        if (!ev)
            goto type_mismatch;
        break;
    case PSS_OBJECT_TYPE_PROCESS:
    case PSS_OBJECT_TYPE_THREAD:
        if (!pid)
            goto type_mismatch;
        break;
    case PSS_OBJECT_TYPE_SECTION:
        if (!sec)
            goto type_mismatch;
        break;
    case PSS_OBJECT_TYPE_UNKNOWN:
        if (ev || pid || sec)
            goto type_mismatch;
        break;
    default:
        goto type_mismatch;
    }

    /* TypeName <-> ObjectName */
    if (have_name) {
        bool ok;
        if (starts(tn, "Socket/"))
            ok = tn[7] != '\0' && starts(nm, "socket:[");
        else if (strcmp(tn, "Pipe") == 0)
            ok = starts(nm, "pipe:[") || nm[0] == '/';
        else if (strcmp(tn, "MemFd") == 0)
            ok = starts(nm, "/memfd:");
        else if (is_path_type(tn))
            ok = nm[0] == '/';
        else if (starts(tn, "AnonInode/")) {
            char a[160], b[160];
            snprintf(a, sizeof a, "anon_inode:[%s]", tn + 10);
            snprintf(b, sizeof b, "anon_inode:%s", tn + 10);
            ok = strcmp(nm, a) == 0 || strcmp(nm, b) == 0;
        } else if (strcmp(tn, "Namespace") == 0) {
            const char *c = strchr(nm, ':');
            ok = c != NULL && c[1] == '[';
        } else if (strcmp(tn, "Unknown") == 0) {
            ok = true;
        } else {
            ok = false;
            for (size_t i = 0; i < sizeof anon_name_of / sizeof anon_name_of[0]; i++)
                if (strcmp(tn, anon_name_of[i][0]) == 0)
                    ok = strcmp(nm, anon_name_of[i][1]) == 0;
        }
        if (!ok) {
            snprintf(why, sizeof why, "type %s with name %.100s", tn, nm);
            return why;
        }
    } else if (want_name && !is_path_type(tn)) {
        /* Only a path the kernel cannot render (longer than PATH_MAX) has no name. */
        snprintf(why, sizeof why, "type %s without a name", tn);
        return why;
    }

    /* GrantedAccess, Attributes, counts, times */
    if (e->Flags & PSS_HANDLE_HAVE_BASIC_INFORMATION) {
        DWORD a = e->GrantedAccess;
        bool ok;
        if (ev)
            ok = a == EVENT_ALL_ACCESS;
        else if (pid)
            ok = a == ((e->ObjectType == PSS_OBJECT_TYPE_THREAD ? THREAD_QUERY_LIMITED_INFORMATION
                                                                 : PROCESS_QUERY_LIMITED_INFORMATION) |
                       SYNCHRONIZE);
        else if (sec)
            ok = a == (SECTION_QUERY | SECTION_MAP_READ) ||
                 a == (SECTION_QUERY | SECTION_MAP_READ | SECTION_MAP_WRITE) || a == GA_PATH;
        else if (strcmp(tn, "Timer") == 0 || strcmp(tn, "Epoll") == 0 ||
                 strcmp(tn, "SignalFd") == 0 || strcmp(tn, "UserFaultFd") == 0 ||
                 starts(tn, "Socket/"))
            ok = a == (GA_R | GA_W) || a == GA_PATH;
        else if (strcmp(tn, "Inotify") == 0 || strcmp(tn, "Directory") == 0)
            ok = a == GA_R || a == GA_PATH;
        else
            ok = file_mask(a);
        if (!ok) {
            snprintf(why, sizeof why, "type %s (%.60s) with access 0x%x", tn, nm, a);
            return why;
        }
        if (e->Attributes != 0 && e->Attributes != OBJ_INHERIT)
            return "Attributes";
        if (e->HandleCount < 1 || e->PointerCount != e->HandleCount)
            return "HandleCount/PointerCount";
        if (ft64(e->CreationTime) == FT_1970)
            return "CreationTime 1970-01-01";
        if (ft64(e->CreationTime) != 0 && ft64(e->CreationTime) < FT_1970)
            return "CreationTime before 1970";
    } else if (e->HandleCount != 0 || e->GrantedAccess != 0 || e->Attributes != 0) {
        return "basic information without HAVE_BASIC_INFORMATION";
    }

    if (e->Flags & PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION) {
        switch (e->ObjectType) {
        case PSS_OBJECT_TYPE_EVENT:
            if (e->TypeSpecificInformation.Event.ManualReset != 0 ||
                e->TypeSpecificInformation.Event.Signaled > 1)
                return "Event information";
            break;
        case PSS_OBJECT_TYPE_SEMAPHORE:
            if (e->TypeSpecificInformation.Semaphore.MaximumCount != 0x7FFFFFFF ||
                e->TypeSpecificInformation.Semaphore.CurrentCount < 0)
                return "Semaphore information";
            break;
        case PSS_OBJECT_TYPE_SECTION:
            if (!(e->TypeSpecificInformation.Section.AllocationAttributes & SEC_COMMIT) ||
                e->TypeSpecificInformation.Section.MaximumSize.QuadPart < 0)
                return "Section information";
            break;
        case PSS_OBJECT_TYPE_PROCESS:
        case PSS_OBJECT_TYPE_THREAD:
            break;
        default:
            return "type-specific information for an UNKNOWN object";
        }
    }
    return NULL;

type_mismatch:
    snprintf(why, sizeof why, "ObjectType %u with type %s", e->ObjectType, tn);
    return why;
}

/* Entries counted together share a description, hence type and name: an entry with
 * HandleCount k needs k entries (itself included) with its TypeName and ObjectName. */
static const char *counts_incoherence(const struct hv *v)
{
    static __thread char why[400];
    for (size_t i = 0; i < v->nh; i++) {
        const PSS_HANDLE_ENTRY *e = &v->h[i];
        if (!(e->Flags & PSS_HANDLE_HAVE_BASIC_INFORMATION) || e->HandleCount < 2)
            continue;
        DWORD same = 0;
        for (size_t j = 0; j < v->nh; j++) {
            const PSS_HANDLE_ENTRY *f = &v->h[j];
            if (f->TypeNameLength == e->TypeNameLength && f->ObjectNameLength == e->ObjectNameLength &&
                memcmp(f->TypeName, e->TypeName, e->TypeNameLength) == 0 &&
                (e->ObjectNameLength == 0 ||
                 memcmp(f->ObjectName, e->ObjectName, e->ObjectNameLength) == 0))
                same++;
        }
        if (same < e->HandleCount) {
            char tn[64], nm[200];
            test_utf16_to_ascii(e->TypeName, e->TypeNameLength, tn, sizeof tn);
            test_utf16_to_ascii(e->ObjectName, e->ObjectNameLength, nm, sizeof nm);
            snprintf(why, sizeof why, "fd %lu (%s %s): HandleCount %u but %u such entries",
                     (unsigned long)(uintptr_t)e->Handle, tn, nm, e->HandleCount, same);
            return why;
        }
    }
    return NULL;
}

/* Every MEM_IMAGE region lies inside its image: [AllocationBase, +SizeOfImage). */
static const char *image_incoherence(const struct hv *v)
{
    static __thread char why[400];
    for (size_t i = 0; i < v->nva; i++) {
        const PSS_VA_SPACE_ENTRY *e = &v->va[i];
        if (e->Type != MEM_IMAGE || e->State == MEM_FREE)
            continue;
        uint64_t b = (uint64_t)(uintptr_t)e->BaseAddress, ab = (uint64_t)(uintptr_t)e->AllocationBase;
        char nm[200] = "";
        if (e->MappedFileName != NULL)
            test_utf16_to_ascii(e->MappedFileName, e->MappedFileNameLength, nm, sizeof nm);
        /* libpss describes [vdso] from its own process's vDSO, which valgrind hides. */
        if (e->SizeOfImage == 0 && strcmp(nm, "[vdso]") == 0 && test_under_valgrind())
            continue;
        if (e->SizeOfImage == 0 || ab > b || b + e->RegionSize > ab + e->SizeOfImage) {
            snprintf(why, sizeof why,
                     "MEM_IMAGE 0x%llx+0x%llx outside its image 0x%llx+0x%x (%s)",
                     (unsigned long long)b, (unsigned long long)e->RegionSize,
                     (unsigned long long)ab, e->SizeOfImage, nm);
            return why;
        }
    }
    return NULL;
}

/* Checks a whole walk: every handle entry, the counts, the images, the VA layout. */
static int check_walk_coherent(const struct hv *v, bool want_name, const char *what)
{
    for (size_t i = 0; i < v->nh; i++) {
        const char *why = handle_incoherence(&v->h[i], want_name);
        CHECK_MSG(why == NULL, "%s: fd %lu: %s", what, (unsigned long)(uintptr_t)v->h[i].Handle,
                  why);
    }
    const char *why = counts_incoherence(v);
    CHECK_MSG(why == NULL, "%s: %s", what, why);
    why = image_incoherence(v);
    CHECK_MSG(why == NULL, "%s: %s", what, why);
    uint64_t expect = 0;
    for (size_t i = 0; i < v->nva; i++) {
        uint64_t b = (uint64_t)(uintptr_t)v->va[i].BaseAddress;
        if (b >= UINT64_C(0xffff800000000000))
            continue;
        CHECK_MSG(i == 0 || b == expect, "%s: VA entry %zu at 0x%llx, expected 0x%llx", what, i,
                  (unsigned long long)b, (unsigned long long)expect);
        CHECK_MSG(v->va[i].RegionSize > 0, "%s: empty VA entry", what);
        expect = b + v->va[i].RegionSize;
    }
    return 0;
}

/* ---- 1: an fd whose path is longer than PATH_MAX ---- */

int test_long_path_fd_reported(void)
{
    struct fixture f;
    const char *args[] = {"--longpaths", "4", "--files", "2", "--pipes", "2", NULL};
    TRY(fixture_start(&f, args));
    int bad = 0;
    static const DWORD flag_sets[] = {
        TEST_ALL_FLAGS,
        PSS_CAPTURE_HANDLES | PSS_CAPTURE_HANDLE_NAME_INFORMATION,
        PSS_CAPTURE_HANDLES,
    };
    for (size_t k = 0; k < sizeof flag_sets / sizeof flag_sets[0] && !bad; k++) {
        HPSS s;
        DWORD rc = test_capture_pid(f.pid, flag_sets[k], 0, &s);
        if (rc != ERROR_SUCCESS) {
            test_fail(__FILE__, __LINE__, "flags 0x%x: capture returned %u", flag_sets[k], rc);
            bad = 1;
            break;
        }
        HPSSWALK w;
        PssWalkMarkerCreate(NULL, &w);
        struct hv v;
        bad = walk_hv(s, w, &v);
        const bool want_name = (flag_sets[k] & PSS_CAPTURE_HANDLE_NAME_INFORMATION) != 0;
        const bool want_basic = (flag_sets[k] & PSS_CAPTURE_HANDLE_BASIC_INFORMATION) != 0;
        if (!bad)
            bad = check_walk_coherent(&v, want_name, "long paths");
        /* Every fd is there, like ls -l /proc/PID/fd shows it. */
        const struct json *fds = json_get(f.json, "fds");
        if (!bad && v.nh != fds->count) {
            test_fail(__FILE__, __LINE__, "%zu handles, fixture has %zu fds", v.nh, fds->count);
            bad = 1;
        }
        for (const struct json *fd = fds->child; fd && !bad; fd = fd->next) {
            const char *kind = json_str(fd, "kind");
            if (strcmp(kind, "longdir") != 0 && strcmp(kind, "longfile") != 0)
                continue;
            long num = (long)json_int(fd, "fd", -1);
            const PSS_HANDLE_ENTRY *e = find_handle(&v, num);
            char tn[64], nm[4600];
            if (e == NULL) {
                test_fail(__FILE__, __LINE__, "fd %ld (%s) missing", num, kind);
                bad = 1;
                break;
            }
            test_utf16_to_ascii(e->TypeName, e->TypeNameLength, tn, sizeof tn);
            if (strcmp(tn, json_str(fd, "type_name")) != 0 ||
                e->ObjectType != json_int(fd, "object_type", -1)) {
                test_fail(__FILE__, __LINE__, "fd %ld: type %s/%u", num, tn, e->ObjectType);
                bad = 1;
            }
            const char *expect = json_str(fd, "name");
            if (!bad && want_name && strcmp(kind, "longdir") == 0) {
                /* A directory's path is rebuilt by walking ".." from it. */
                test_utf16_to_ascii(e->ObjectName, e->ObjectNameLength, nm, sizeof nm);
                if (!(e->Flags & PSS_HANDLE_HAVE_NAME) || strcmp(nm, expect) != 0) {
                    test_fail(__FILE__, __LINE__, "fd %ld: name (%zu bytes) != %zu-byte path",
                              num, strlen(nm), strlen(expect));
                    bad = 1;
                }
                if (strlen(expect) <= 4095) {
                    test_fail(__FILE__, __LINE__, "the fixture's path is not long");
                    bad = 1;
                }
            }
            if (!bad && strcmp(kind, "longfile") == 0 &&
                ((e->Flags & PSS_HANDLE_HAVE_NAME) || e->ObjectName != NULL)) {
                test_fail(__FILE__, __LINE__, "fd %ld: a file's long path has no name", num);
                bad = 1;
            }
            if (!bad && want_basic &&
                (e->GrantedAccess != (DWORD)json_int(fd, "granted_access", -1) ||
                 e->Attributes != (DWORD)json_int(fd, "attributes", -1) || e->HandleCount != 1 ||
                 ft64(e->CreationTime) == 0)) {
                test_fail(__FILE__, __LINE__, "fd %ld: access 0x%x attributes %u count %u", num,
                          e->GrantedAccess, e->Attributes, e->HandleCount);
                bad = 1;
            }
        }
        hv_free(&v);
        PssWalkMarkerFree(w);
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    }
    CHECK_EQ(fixture_stop(&f), 0);
    return bad;
}

/* ---- 11: creation times ---- */

/* The CreationTime rule: btime if the filesystem reports a non-zero one, else a non-zero
 * ctime, else 0 ("unknown"). */
static uint64_t expected_creation(pid_t pid, long fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%ld", (int)pid, fd);
    struct statx sx;
    if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS | STATX_BTIME, &sx) != 0)
        return UINT64_MAX;
    const struct statx_timestamp *t = NULL;
    if ((sx.stx_mask & STATX_BTIME) && (sx.stx_btime.tv_sec != 0 || sx.stx_btime.tv_nsec != 0))
        t = &sx.stx_btime;
    else if (sx.stx_ctime.tv_sec != 0 || sx.stx_ctime.tv_nsec != 0)
        t = &sx.stx_ctime;
    if (t == NULL)
        return 0;
    return FT_1970 + (uint64_t)t->tv_sec * 10000000u + t->tv_nsec / 100u;
}

int test_creation_time_zero_birth(void)
{
    struct fixture f;
    const char *args[] = {"--sockets", "6", "--pipes", "2", "--files", "2", "--dirs", "2",
                          "--memfds", "1", "--devices", "1", NULL};
    TRY(fixture_start(&f, args));
    HPSS s;
    DWORD rc = test_capture_pid(f.pid, TEST_ALL_FLAGS, 0, &s);
    if (rc != ERROR_SUCCESS)
        fixture_stop(&f);
    CHECK_EQ(rc, ERROR_SUCCESS);
    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    struct hv v;
    int bad = walk_hv(s, w, &v);
    size_t sockets = 0;
    for (size_t i = 0; i < v.nh && !bad; i++) {
        const PSS_HANDLE_ENTRY *e = &v.h[i];
        char tn[64];
        test_utf16_to_ascii(e->TypeName, e->TypeNameLength, tn, sizeof tn);
        long fd = (long)(uintptr_t)e->Handle;
        if (strcmp(tn, "Timer") == 0 || strcmp(tn, "EventFd") == 0 || strcmp(tn, "PidFd") == 0)
            continue;
        uint64_t want = expected_creation(f.pid, fd);
        sockets += starts(tn, "Socket/");
        if (ft64(e->CreationTime) != want) {
            test_fail(__FILE__, __LINE__, "fd %ld (%s): CreationTime %llu, expected %llu", fd, tn,
                      (unsigned long long)ft64(e->CreationTime), (unsigned long long)want);
            bad = 1;
        }
    }
    if (!bad && sockets != 6) {
        test_fail(__FILE__, __LINE__, "%zu sockets", sockets);
        bad = 1;
    }
    hv_free(&v);
    PssWalkMarkerFree(w);
    PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    CHECK_EQ(fixture_stop(&f), 0);
    return bad;
}

/* ---- 8: image memory ends at the image end ---- */

static int check_bss_merge(const struct fixture *f, const struct hv *v)
{
    const struct json *bm = json_get(f->json, "bss_merge");
    CHECK(bm != NULL);
    uint64_t image_end = strtoull(json_str(bm, "image_end"), NULL, 16);
    uint64_t merged = strtoull(json_str(bm, "merged_start"), NULL, 16);
    uint64_t size = (uint64_t)json_int(bm, "pages", 0) * (uint64_t)sysconf(_SC_PAGESIZE);
    /* The fixture really produced the kernel merge: one VMA across the image end. */
    CHECK_MSG(merged != 0 && merged < image_end, "no merged VMA across 0x%llx",
              (unsigned long long)image_end);
    const PSS_VA_SPACE_ENTRY *tail = NULL, *bss = NULL;
    for (size_t i = 0; i < v->nva; i++) {
        uint64_t b = (uint64_t)(uintptr_t)v->va[i].BaseAddress;
        if (b == image_end)
            tail = &v->va[i];
        if (b == merged)
            bss = &v->va[i];
    }
    CHECK_MSG(tail != NULL, "no entry starts at the image end 0x%llx",
              (unsigned long long)image_end);
    CHECK_EQ(tail->Type, MEM_PRIVATE);
    CHECK_EQ(tail->State, MEM_COMMIT);
    CHECK_EQ(tail->RegionSize, size);
    CHECK(tail->AllocationBase == tail->BaseAddress);
    CHECK_EQ(tail->Protect, PAGE_READWRITE);
    CHECK_EQ(tail->SizeOfImage, 0);
    CHECK(bss != NULL);
    CHECK_EQ(bss->Type, MEM_IMAGE);
    CHECK_EQ((uint64_t)(uintptr_t)bss->BaseAddress + bss->RegionSize, image_end);
    CHECK_EQ((uint64_t)(uintptr_t)bss->AllocationBase + bss->SizeOfImage, image_end);
    return 0;
}

int test_va_image_split_at_image_end(void)
{
    struct fixture f;
    const char *args[] = {"--bss-merge", "3", "--maps", "6", NULL};
    TRY(fixture_start(&f, args));
    HPSS s;
    DWORD rc = test_capture_pid(f.pid, TEST_ALL_FLAGS, 0, &s);
    if (rc != ERROR_SUCCESS)
        fixture_stop(&f);
    CHECK_EQ(rc, ERROR_SUCCESS);
    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    struct hv v;
    int bad = walk_hv(s, w, &v);
    if (!bad)
        bad = check_walk_coherent(&v, true, "bss merge");
    if (!bad)
        bad = check_bss_merge(&f, &v);
    /* The region count equals maps lines + free gaps: the split adds one entry. */
    hv_free(&v);
    PssWalkMarkerFree(w);
    PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    CHECK_EQ(fixture_stop(&f), 0);
    return bad;
}

/* A real process: python3 with libpython loaded (ctypes) and some anonymous memory. */
int test_va_images_real_python(void)
{
    if (access("/usr/bin/python3", X_OK) != 0) {
        test_skip("no /usr/bin/python3");
        return 0;
    }
    int out[2];
    CHECK(pipe2(out, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    const char *script =
        "import ctypes, ctypes.util, glob, mmap, sys, time\n"
        "for p in sorted(glob.glob('/usr/lib/x86_64-linux-gnu/libpython3*.so*')):\n"
        "    try:\n"
        "        ctypes.CDLL(p); break\n"
        "    except OSError: pass\n"
        "keep = [mmap.mmap(-1, 4096 * (1 + i % 7)) for i in range(200)]\n"
        "keep += [bytearray(1 << 16) for i in range(50)]\n"
        "print('READY', flush=True)\n"
        "time.sleep(60)\n";
    char *argv[] = {"python3", "-c", (char *)script, NULL};
    pid_t pid;
    int err = posix_spawn(&pid, "/usr/bin/python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (err != 0) {
        close(out[0]);
        CHECK_MSG(0, "spawn python3: %s", strerror(err));
    }
    char buf[64];
    size_t got = 0;
    while (got < sizeof buf - 1 && (got == 0 || buf[got - 1] != '\n')) {
        ssize_t n = read(out[0], buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    int bad = got < 6 || strncmp(buf, "READY\n", 6) != 0;
    if (bad)
        test_fail(__FILE__, __LINE__, "python3 did not start");
    for (int i = 0; i < 3 && !bad; i++) {
        HPSS s;
        DWORD rc = test_capture_pid(pid, TEST_ALL_FLAGS, 0, &s);
        if (rc != ERROR_SUCCESS) {
            test_fail(__FILE__, __LINE__, "capture python3: %u", rc);
            bad = 1;
            break;
        }
        HPSSWALK w;
        PssWalkMarkerCreate(NULL, &w);
        struct hv v;
        bad = walk_hv(s, w, &v);
        if (!bad)
            bad = check_walk_coherent(&v, true, "python3");
        size_t images = 0;
        for (size_t k = 0; k < v.nva; k++)
            images += v.va[k].Type == MEM_IMAGE;
        if (!bad && images < 10) {
            test_fail(__FILE__, __LINE__, "only %zu image regions in python3", images);
            bad = 1;
        }
        hv_free(&v);
        PssWalkMarkerFree(w);
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(out[0]);
    return bad;
}

/* ---- 7: one fd closing mid-capture affects only that fd ---- */

int test_kcmp_failure_stays_local(void)
{
    struct fixture f;
    /* 300 timerfd numbers closed and re-created all the time (kcmp sees EBADF), and two
     * stable dup pairs of regular files whose counts must stay 2. */
    const char *args[] = {"--files", "3", "--dups", "2", "--churn-close", "300", NULL};
    TRY(fixture_start(&f, args));
    long pair_fds[4];
    size_t npair = 0;
    for (const struct json *fd = json_get(f.json, "fds")->child; fd; fd = fd->next)
        if (strcmp(json_str(fd, "kind"), "file") == 0 && json_int(fd, "handle_count", 0) == 2 &&
            npair < 4)
            pair_fds[npair++] = (long)json_int(fd, "fd", -1);
    CHECK_EQ(npair, 4);
    HANDLE h;
    CHECK_EQ(PssLinuxOpenProcess((DWORD)f.pid, &h), ERROR_SUCCESS);
    int bad = 0, wrong = 0;
    const int captures = 60;
    for (int i = 0; i < captures && !bad; i++) {
        HPSS s;
        DWORD rc = PssCaptureSnapshot(h, TEST_ALL_FLAGS, 0, &s);
        if (rc != ERROR_SUCCESS) {
            test_fail(__FILE__, __LINE__, "capture %d: %u", i, rc);
            bad = 1;
            break;
        }
        HPSSWALK w;
        PssWalkMarkerCreate(NULL, &w);
        struct hv v;
        bad = walk_hv(s, w, &v);
        if (!bad)
            bad = check_walk_coherent(&v, true, "close storm");
        for (size_t k = 0; k < npair && !bad; k++) {
            const PSS_HANDLE_ENTRY *e = find_handle(&v, pair_fds[k]);
            if (e == NULL || e->HandleCount != 2) {
                if (wrong++ == 0)
                    test_fail(__FILE__, __LINE__, "capture %d: fd %ld HandleCount %u", i,
                              pair_fds[k], e ? e->HandleCount : 0);
            }
        }
        hv_free(&v);
        PssWalkMarkerFree(w);
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    }
    PssLinuxCloseProcess(h);
    CHECK_EQ(fixture_stop(&f), 0);
    CHECK_MSG(wrong == 0, "%d wrong counts of stable dup pairs in %d captures", wrong, captures);
    return bad;
}

/* ---- HandleCount at scale: the epoll membership test and the split kcmp sort ---- */

static int check_counts(const char *const *args, const char *what)
{
    struct fixture f;
    TRY(fixture_start(&f, args));
    HPSS s;
    DWORD rc = test_capture_pid(f.pid, TEST_ALL_FLAGS, 0, &s);
    if (rc != ERROR_SUCCESS)
        fixture_stop(&f);
    CHECK_EQ(rc, ERROR_SUCCESS);
    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    struct hv v;
    int bad = walk_hv(s, w, &v);
    if (!bad)
        bad = check_walk_coherent(&v, true, what);
    size_t twos = 0;
    for (const struct json *fd = json_get(f.json, "fds")->child; fd && !bad; fd = fd->next) {
        if (json_is_null(fd, "handle_count"))
            continue;
        long num = (long)json_int(fd, "fd", -1);
        const PSS_HANDLE_ENTRY *e = find_handle(&v, num);
        long want = (long)json_int(fd, "handle_count", -1);
        twos += want == 2;
        if (e == NULL || e->HandleCount != (DWORD)want) {
            test_fail(__FILE__, __LINE__, "%s: fd %ld (%s) HandleCount %u, expected %ld", what,
                      num, json_str(fd, "kind"), e ? e->HandleCount : 0, want);
            bad = 1;
        }
    }
    if (!bad && twos == 0) {
        test_fail(__FILE__, __LINE__, "%s: no dup pairs in the fixture", what);
        bad = 1;
    }
    hv_free(&v);
    PssWalkMarkerFree(w);
    PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    CHECK_EQ(fixture_stop(&f), 0);
    return bad;
}

int test_handle_counts_anon_at_scale(void)
{
    /* 1,203 timerfds (3 dup pairs: found by the epoll membership test, matched with kcmp)
     * and 1,103 epolls (one kcmp group, sorted in halves on two threads, merged). */
    const char *a[] = {"--timerfds", "1200", "--epolls", "1100", "--anondups", "3", NULL};
    TRY(check_counts(a, "3 anon dups"));
    /* 12 timerfd dups: too many to match one by one, the group is sorted. */
    const char *b[] = {"--timerfds", "600", "--epolls", "20", "--anondups", "12", NULL};
    TRY(check_counts(b, "12 anon dups"));
    /* A dead group leader: fds, kcmp and the membership test go through a live thread. */
    const char *c[] = {"--timerfds", "600", "--epolls", "20", "--anondups", "3", "--threads",
                       "2", "--leader-exit", NULL};
    TRY(check_counts(c, "dead leader"));
    return 0;
}

/* The helper that probes anon descriptions works in a private fd table that holds none
 * of the caller's descriptors -- not a copy of the caller's table (which would keep every
 * file the caller closes meanwhile open until the helper exits).  While captures run on
 * another thread, this thread looks at each helper's fd table (/proc/self/task/TID/fd):
 * it must be either the shared table (it shows an eventfd made after the helper started)
 * or hold none of our descriptors (our pipe, open since before the capture). */
struct capture_loop {
    pid_t pid;
    atomic_int stop;
    int captures;
    DWORD rc;
};

static void *capture_loop_main(void *p)
{
    struct capture_loop *cl = p;
    for (int i = 0; i < 200 && !atomic_load(&cl->stop); i++) {
        HPSS s;
        cl->rc = test_capture_pid(cl->pid, TEST_ALL_FLAGS, 0, &s);
        if (cl->rc != ERROR_SUCCESS)
            break;
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
        cl->captures++;
    }
    return NULL;
}

/* Does task tid's fd table hold a descriptor whose link text is `want`? -1: no table. */
static int task_holds(pid_t tid, const char *want, int *nfds)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/fd", (int)tid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int found = 0;
    *nfds = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        (*nfds)++;
        char lp[400], link[128];
        snprintf(lp, sizeof lp, "%s/%s", path, de->d_name);
        ssize_t n = readlink(lp, link, sizeof link - 1);
        if (n < 0)
            continue;
        link[n] = '\0';
        found |= strcmp(link, want) == 0;
    }
    closedir(d);
    return found;
}

int test_prober_holds_no_caller_fd(void)
{
    const char *a[] = {"--timerfds", "3000", NULL};
    struct fixture f;
    TRY(fixture_start(&f, a));
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    char pipe_link[64], self_link[64];
    struct stat st;
    CHECK(fstat(p[1], &st) == 0);
    snprintf(pipe_link, sizeof pipe_link, "pipe:[%llu]", (unsigned long long)st.st_ino);
    struct capture_loop cl = {f.pid, 0, 0, ERROR_SUCCESS};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, capture_loop_main, &cl) == 0);
    const pid_t me = (pid_t)syscall(SYS_gettid);
    int private_seen = 0, bad = 0;
    for (int scan = 0; scan < 200000 && private_seen < 20 && !bad; scan++) {
        DIR *d = opendir("/proc/self/task");
        if (d == NULL)
            break;
        struct dirent *de;
        while ((de = readdir(d)) != NULL && !bad) {
            pid_t tid = (pid_t)atoi(de->d_name);
            if (tid <= 0 || tid == me)
                continue;
            /* A fresh descriptor of ours: a shared table shows it. */
            int marker = eventfd(0, EFD_CLOEXEC);
            if (marker < 0)
                continue;
            snprintf(self_link, sizeof self_link, "anon_inode:[eventfd]");
            /* The marker first, then the pipe: a helper that turns its shared table into a
             * private one (CLOSE_RANGE_UNSHARE) between the two looks shows the marker
             * without the pipe, never the pipe without the marker; only a copy of the
             * table made before the marker existed does. */
            int n1 = 0, n2 = 0;
            int has_marker = task_holds(tid, self_link, &n2);
            int has_pipe = task_holds(tid, pipe_link, &n1);
            close(marker);
            if (has_pipe < 0 || has_marker < 0)
                continue; /* the thread is gone */
            if (has_pipe && !has_marker) {
                test_fail(__FILE__, __LINE__,
                          "task %d holds our pipe in a table of its own (%d fds): a copy of "
                          "the caller's table", (int)tid, n1);
                bad = 1;
            }
            private_seen += !has_pipe && !has_marker;
        }
        closedir(d);
        if (atomic_load(&cl.stop) == 0 && cl.captures >= 200)
            break;
    }
    atomic_store(&cl.stop, 1);
    pthread_join(th, NULL);
    close(p[0]);
    close(p[1]);
    TRY(fixture_stop(&f));
    CHECK_EQ(cl.rc, ERROR_SUCCESS);
    if (!bad && private_seen == 0)
        printf("    no helper with a private table seen in %d captures (no "
               "CLOSE_RANGE_UNSHARE here?): nothing to check\n",
               cl.captures);
    else if (!bad)
        printf("    %d looks at a helper's private table in %d captures: none of our fds\n",
               private_seen, cl.captures);
    return bad;
}

/* ---- 6: dup2 storms ---- */

/* Tally of incoherence reasons by kind ("type Pipe with access", "type Socket/TCP with
 * name", ...): the reason text up to its details. */
struct tally {
    char key[16][128];
    long count[16];
    size_t n;
};

static void tally_add(struct tally *t, const char *why)
{
    /* The first two words, then "with" and the word after it: "type Pipe with access". */
    char words[8][40];
    size_t nw = 0;
    for (const char *p = why; *p && nw < 8;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        snprintf(words[nw++], sizeof words[0], "%.*s", (int)(n < 39 ? n : 39), p);
        p += n;
    }
    char key[128];
    const char *with = "";
    for (size_t i = 2; i + 1 < nw; i++)
        if (strcmp(words[i], "with") == 0) {
            with = words[i + 1];
            break;
        }
    snprintf(key, sizeof key, "%.39s %.39s%s%.39s", words[0], nw > 1 ? words[1] : "",
             with[0] ? " with " : "", with);
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->key[i], key) == 0) {
            t->count[i]++;
            return;
        }
    if (t->n < 16) {
        memcpy(t->key[t->n], key, sizeof key);
        t->count[t->n++] = 1;
    }
}

int test_dup2_storm_entries_coherent(void)
{
    struct fixture f;
    const char *args[] = {"--churn", "24", "--files", "2", "--dups", "1", "--pipes", "2", NULL};
    TRY(fixture_start(&f, args));
    HANDLE h;
    CHECK_EQ(PssLinuxOpenProcess((DWORD)f.pid, &h), ERROR_SUCCESS);
    int bad = 0;
    long entries = 0, incoherent = 0;
    const char *first = NULL;
    char first_buf[200] = "";
    struct tally tally;
    memset(&tally, 0, sizeof tally);
    for (int i = 0; i < 300 && !bad; i++) {
        HPSS s;
        DWORD rc = PssCaptureSnapshot(h, TEST_ALL_FLAGS, 0, &s);
        if (rc != ERROR_SUCCESS) {
            test_fail(__FILE__, __LINE__, "capture %d: %u", i, rc);
            bad = 1;
            break;
        }
        HPSSWALK w;
        PssWalkMarkerCreate(NULL, &w);
        struct hv v;
        bad = walk_hv(s, w, &v);
        for (size_t k = 0; k < v.nh; k++) {
            entries++;
            const char *why = handle_incoherence(&v.h[k], true);
            if (why != NULL)
                tally_add(&tally, why);
            if (why != NULL && incoherent++ == 0) {
                snprintf(first_buf, sizeof first_buf, "fd %lu: %s",
                         (unsigned long)(uintptr_t)v.h[k].Handle, why);
                first = first_buf;
            }
        }
        const char *why = counts_incoherence(&v);
        if (why != NULL)
            tally_add(&tally, "HandleCount without as many such entries");
        if (why != NULL && incoherent++ == 0) {
            snprintf(first_buf, sizeof first_buf, "%s", why);
            first = first_buf;
        }
        hv_free(&v);
        PssWalkMarkerFree(w);
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    }
    PssLinuxCloseProcess(h);
    CHECK_EQ(fixture_stop(&f), 0);
    printf("    %ld handle entries, %ld incoherent\n", entries, incoherent);
    for (size_t i = 0; i < tally.n; i++)
        printf("      %6ld  %s\n", tally.count[i], tally.key[i]);
    CHECK_MSG(incoherent == 0, "%ld incoherent entries of %ld; first: %s", incoherent, entries,
              first);
    return bad;
}

/* ---- the churn loop: 2,000 captures of targets that dup2, exec and exit ---- */

int test_churn_loop_2000_captures(void)
{
    const int total = 2000;
    long ok = 0, aborted = 0, handles = 0, regions = 0, targets = 0;
    int bad = 0;
    struct fixture f;
    bool running = false;
    HANDLE h = NULL;
    int done_with_target = 0, captures_of_target = 0;
    for (int i = 0; i < total && !bad; i++) {
        if (!running) {
            /* Targets differ in lifetime and exec period so that captures meet them in
             * every state: running, exec'ing, exiting, zombie. */
            char life[16], period[16];
            snprintf(life, sizeof life, "%d", 40 + (int)(targets * 37 % 160));
            snprintf(period, sizeof period, "%d", 10 + (int)(targets * 13 % 30));
            const char *args[] = {"--churn", "16", "--churn-close", "16", "--threads", "3",
                                  "--pipes", "4", "--files", "3", "--dups", "2", "--eventfds",
                                  "2", "--memfds", "2", "--maps", "8", "--exec-every-ms", period,
                                  "--exit-after-ms", life, NULL};
            TRY(fixture_start(&f, args));
            targets++;
            if (PssLinuxOpenProcess((DWORD)f.pid, &h) != ERROR_SUCCESS) {
                fixture_kill(&f);
                CHECK_MSG(0, "open target %d", (int)f.pid);
            }
            running = true;
            done_with_target = 0;
            captures_of_target = 0;
        }
        HPSS s = NULL;
        DWORD rc = PssCaptureSnapshot(h, TEST_ALL_FLAGS, 0, &s);
        if (rc == ERROR_SUCCESS) {
            ok++;
            HPSSWALK w;
            PssWalkMarkerCreate(NULL, &w);
            struct hv v;
            bad = walk_hv(s, w, &v);
            if (!bad) {
                char what[64];
                snprintf(what, sizeof what, "capture %d (pid %d)", i, (int)f.pid);
                bad = check_walk_coherent(&v, true, what);
            }
            for (size_t k = 0; k < v.nt && !bad; k++)
                if (v.t[k].ProcessId != (DWORD)f.pid || v.t[k].ThreadId == 0) {
                    test_fail(__FILE__, __LINE__, "capture %d: thread entry %zu", i, k);
                    bad = 1;
                }
            handles += (long)v.nh;
            regions += (long)v.nva;
            hv_free(&v);
            PssWalkMarkerFree(w);
            PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
        } else if (rc == ERROR_PROCESS_ABORTED) {
            aborted++;
            done_with_target = 1;
        } else {
            test_fail(__FILE__, __LINE__, "capture %d (pid %d): unexpected code %u", i,
                      (int)f.pid, rc);
            bad = 1;
        }
        /* A target that exited is reaped (the next capture of it then aborts); a new one
         * replaces it then, or after at most 300 captures. */
        int status;
        if (running && f.pid > 0 && waitpid(f.pid, &status, WNOHANG) == f.pid) {
            f.pid = -1;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                test_fail(__FILE__, __LINE__, "target exited with status 0x%x", status);
                bad = 1;
            }
        }
        if (running && (done_with_target || ++captures_of_target == 300 || bad)) {
            PssLinuxCloseProcess(h);
            fixture_stop(&f); /* EOF and reap, or (already reaped) just release */
            running = false;
        }
    }
    if (running) {
        PssLinuxCloseProcess(h);
        fixture_stop(&f);
    }
    printf("    %d captures of %ld targets: %ld complete (%ld handle entries, %ld regions "
           "checked), %ld ERROR_PROCESS_ABORTED\n",
           total, targets, ok, handles, regions, aborted);
    CHECK(bad == 0);
    CHECK(ok > total / 2);
    return 0;
}
