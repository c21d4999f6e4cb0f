/*
 * test.h -- the libpss test harness: assertion macros, the fixture process helper, the
 * counting test allocator and small utilities.  Tests are listed once in test_list.h.
 */
#ifndef PSS_TEST_H
#define PSS_TEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "json.h"
#include "processsnapshot.h"

/* ---- assertions: report and return 1 from the test function ---- */

void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                            \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

#define CHECK_MSG(cond, ...)                                                              \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            test_fail(__FILE__, __LINE__, __VA_ARGS__);                                   \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

#define CHECK_EQ(a, b)                                                                    \
    do {                                                                                  \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);    \
        if (a_ != b_) {                                                                   \
            test_fail(__FILE__, __LINE__, "%s == %s: %llu (0x%llx) != %llu (0x%llx)", #a, \
                      #b, a_, a_, b_, b_);                                                \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

/* For calls in helper functions that return DWORD-like int status. */
#define TRY(expr)                                                                         \
    do {                                                                                  \
        if ((expr) != 0)                                                                  \
            return 1;                                                                     \
    } while (0)

/* Skips the current test with a printed reason (counts as passed). */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

bool test_under_valgrind(void);

/*
 * The priority class and base priority a SCHED_OTHER process has at the test runner's nice
 * value (the documented mapping, src/util.c), which the fixture and our children inherit:
 * `nice npm test` must not fail the tests that check them.
 */
void test_expected_priority(DWORD *priority_class, LONG *base_priority);

/* ---- /proc/PID/stat ---- */

/* Reads /proc/PID/stat (tid 0) or /proc/PID/task/TID/stat into buf and returns where the fields
 * after the command name start (the state, field 3), or NULL when it cannot be read. */
const char *test_stat_after_comm(pid_t pid, pid_t tid, char *buf, size_t size);
/* The state letter of the process (tid 0) or of one of its tasks, 0 when unreadable. */
char test_task_state(pid_t pid, pid_t tid);

/* ---- the fixture process ---- */

struct fixture {
    pid_t pid;
    int stdin_fd;   /* write end; closing it makes the fixture exit */
    char *line;     /* the JSON text */
    struct json *json;
};

/* Starts build/pss-fixture with the given NULL-terminated extra arguments and waits for
 * READY.  Returns 0 on success. */
int fixture_start(struct fixture *f, const char *const *args);
/* Closes stdin and reaps the fixture; returns its exit status (0 expected). */
int fixture_stop(struct fixture *f);
/* SIGKILLs and reaps. */
void fixture_kill(struct fixture *f);
const char *fixture_path(void);

/* The harness run as `--print-create-times PID` (test_create_time_same_in_every_load: another
 * load of the library): prints what it captures of PID's CreateTimes, exits 0 on success. */
int test_print_create_times(const char *pid);

/* ---- the counting test allocator ---- */

struct test_alloc {
    PSS_ALLOCATOR allocator; /* must stay first: routines get &test_alloc as Context */
    long allocs;             /* AllocRoutine calls (successful or not) */
    long frees;              /* FreeRoutine calls with a non-NULL address */
    long null_frees;         /* FreeRoutine calls with NULL */
    long outstanding;        /* live blocks */
    long long bytes_outstanding;
    long fail_at;            /* AllocRoutine call index (0-based) that returns NULL; -1: never */
    long fail_count;         /* how many calls from fail_at fail (default 1) */
    long foreign_frees;      /* FreeRoutine of a pointer this allocator never returned */
    pthread_t expected_thread;
    bool check_thread;
    long wrong_thread_calls;
};

void test_alloc_init(struct test_alloc *a);
void test_alloc_destroy(struct test_alloc *a);
bool test_alloc_owns(const struct test_alloc *a, const void *p);

/* ---- utilities ---- */

/* UTF-16 (byte length) -> UTF-8 (ASCII-only test data; others become '?'). */
void test_utf16_to_ascii(const WCHAR *s, WORD bytes, char *out, size_t cap);
/* Full-capture flags the app uses. */
#define TEST_ALL_FLAGS                                                                    \
    (PSS_CAPTURE_HANDLES | PSS_CAPTURE_HANDLE_NAME_INFORMATION |                          \
     PSS_CAPTURE_HANDLE_BASIC_INFORMATION | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION | \
     PSS_CAPTURE_THREADS | PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION | \
     PSS_CREATE_MEASURE_PERFORMANCE)

/* Opens pid and captures it with flags.  Returns the Win32 code. */
DWORD test_capture_pid(pid_t pid, DWORD flags, DWORD ctx_flags, HPSS *out);
int test_count_open_fds(void);

/* ---- test declarations ---- */

#define PSS_TEST(name, heavy) int test_##name(void);
#include "test_list.h"
#undef PSS_TEST

#endif
