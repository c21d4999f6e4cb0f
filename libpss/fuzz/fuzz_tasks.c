/*
 * /proc/PID/task/TID/{stat,status,syscall} as the threads phase parses them:
 * parse_task_stat, parse_task_status, parse_syscall in linux_ext_threads.c.  Those are
 * static, so this target compiles linux_ext_threads.c into itself and is linked without the
 * library's copy.  The first input byte picks the file (mod 3), the rest is its text (at
 * most 4095 bytes, as read_thread reads it), in an exactly-sized copy.
 * Checks: the name NUL-terminated and the bytes between the first '(' and the last ')';
 * the affinity found or ERROR_NOT_FOUND; syscall ERROR_SUCCESS, ERROR_BUSY or
 * ERROR_INVALID_DATA; and round trips: what a parser accepted, printed back in the kernel's
 * format, parses to the same record.
 */
#include "../src/linux_ext_threads.c"

#include <inttypes.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void fuzz_stat(const char *buf, size_t len)
{
    PSS_DETAILS_THREAD t;
    memset(&t, 0, sizeof t);
    if (!parse_task_stat(buf, len, &t))
        return;
    const char *z = memchr(t.Name, '\0', sizeof t.Name);
    FUZZ_CHECK(z != NULL);
    const char *open = memchr(buf, '(', len);
    FUZZ_CHECK(open != NULL && memcmp(t.Name, open + 1, (size_t)(z - t.Name)) == 0);
    if (memchr(t.Name, '\0', (size_t)(z - t.Name)) != NULL || strchr(t.Name, ')') != NULL)
        return; /* a name the round trip cannot carry */
    /* Fields 4..41, the ones read filled in, the rest 0. */
    int64_t f[42] = {0};
    f[14] = (int64_t)t.UserTime100ns;
    f[15] = (int64_t)t.KernelTime100ns;
    f[18] = t.KernelPriority;
    f[19] = t.Nice;
    f[39] = t.LastCpu;
    f[40] = (int64_t)t.RtPriority;
    f[41] = (int64_t)t.Policy;
    char out[1024];
    int k = snprintf(out, sizeof out, "1 (%s) %c", t.Name, t.State ? t.State : 'R');
    for (int i = 4; i <= 41 && k > 0 && (size_t)k < sizeof out; i++)
        k += snprintf(out + k, sizeof out - (size_t)k, " %" PRId64, f[i]);
    FUZZ_CHECK(k > 0 && (size_t)k < sizeof out - 1);
    out[k++] = '\n';
    if (t.State == ' ' || t.State == '\t' || t.State == '\0' || (t.State >= '0' && t.State <= '9') ||
        t.State == '-')
        return; /* the state must stay a single non-numeric field for the round trip */
    PSS_DETAILS_THREAD u;
    memset(&u, 0, sizeof u);
    FUZZ_CHECK(parse_task_stat(out, (size_t)k, &u));
    FUZZ_CHECK(strcmp(u.Name, t.Name) == 0 && u.State == t.State);
    FUZZ_CHECK(u.UserTime100ns == t.UserTime100ns && u.KernelTime100ns == t.KernelTime100ns &&
               u.KernelPriority == t.KernelPriority && u.Nice == t.Nice &&
               u.LastCpu == t.LastCpu && u.RtPriority == t.RtPriority && u.Policy == t.Policy);
}

static void fuzz_status(const char *buf, size_t len)
{
    PSS_DETAILS_THREAD t;
    memset(&t, 0, sizeof t);
    parse_task_status(buf, len, &t);
    FUZZ_CHECK(t.AffinityError == ERROR_SUCCESS || t.AffinityError == ERROR_NOT_FOUND);
    char out[1024];
    int k = snprintf(out, sizeof out, "Name:\tx\nCpus_allowed:\t");
    for (int g = 31; g >= 0; g--)
        k += snprintf(out + k, sizeof out - (size_t)k, "%08" PRIx32 "%s",
                      (uint32_t)(t.Affinity[g / 2] >> (32 * (g % 2))), g ? "," : "\n");
    k += snprintf(out + k, sizeof out - (size_t)k,
                  "voluntary_ctxt_switches:\t%" PRId64 "\nnonvoluntary_ctxt_switches:\t%" PRId64
                  "\n",
                  (int64_t)t.VoluntarySwitches, (int64_t)t.InvoluntarySwitches);
    FUZZ_CHECK(k > 0 && (size_t)k < sizeof out);
    PSS_DETAILS_THREAD u;
    memset(&u, 0, sizeof u);
    parse_task_status(out, (size_t)k, &u);
    FUZZ_CHECK(u.AffinityError == ERROR_SUCCESS);
    FUZZ_CHECK(memcmp(u.Affinity, t.Affinity, sizeof t.Affinity) == 0);
    FUZZ_CHECK(u.VoluntarySwitches == t.VoluntarySwitches &&
               u.InvoluntarySwitches == t.InvoluntarySwitches);
}

static void fuzz_syscall(const char *buf, size_t len)
{
    PSS_DETAILS_THREAD t;
    memset(&t, 0, sizeof t);
    DWORD rc = parse_syscall(buf, len, &t);
    FUZZ_CHECK(rc == ERROR_SUCCESS || rc == ERROR_BUSY || rc == ERROR_INVALID_DATA);
    if (rc != ERROR_SUCCESS)
        return;
    char out[512];
    int k;
    if (t.SyscallNumber == -1)
        k = snprintf(out, sizeof out, "-1 0x%" PRIx64 " 0x%" PRIx64 "\n", t.StackPointer,
                     t.InstructionPointer);
    else
        k = snprintf(out, sizeof out,
                     "%" PRId32 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64
                     " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 "\n",
                     t.SyscallNumber, t.SyscallArguments[0], t.SyscallArguments[1],
                     t.SyscallArguments[2], t.SyscallArguments[3], t.SyscallArguments[4],
                     t.SyscallArguments[5], t.StackPointer, t.InstructionPointer);
    FUZZ_CHECK(k > 0 && (size_t)k < sizeof out);
    PSS_DETAILS_THREAD u;
    memset(&u, 0, sizeof u);
    FUZZ_CHECK(parse_syscall(out, (size_t)k, &u) == ERROR_SUCCESS);
    FUZZ_CHECK(u.SyscallNumber == t.SyscallNumber && u.StackPointer == t.StackPointer &&
               u.InstructionPointer == t.InstructionPointer &&
               memcmp(u.SyscallArguments, t.SyscallArguments, sizeof t.SyscallArguments) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t len = size - 1 < 4095 ? size - 1 : 4095;
    char *buf = malloc(len ? len : 1);
    if (buf == NULL)
        abort();
    memcpy(buf, data + 1, len);
    switch (data[0] % 3) {
    case 0: fuzz_stat(buf, len); break;
    case 1: fuzz_status(buf, len); break;
    default: fuzz_syscall(buf, len); break;
    }
    free(buf);
    return 0;
}
