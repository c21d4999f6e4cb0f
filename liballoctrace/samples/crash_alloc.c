/*
 * A user allocator that crashes: its FreeRoutine reads the header in front of the block
 * without checking for NULL, and the API calls FreeRoutine(Context, NULL) when it frees a
 * marker (for state slots it never allocated).  PSS Inspector runs walks with a user library
 * in a child process, so this ends the session with SIGSEGV and the last events, not the app.
 *
 *   cc -shared -fPIC -O2 -o libcrash_alloc.so crash_alloc.c
 */
#include <stdint.h>
#include <stdlib.h>

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#define WINAPI __stdcall
#else
#define EXPORT __attribute__((visibility("default")))
#define WINAPI
#endif

EXPORT void *WINAPI AllocRoutine(void *Context, uint32_t Size);
EXPORT void WINAPI FreeRoutine(void *Context, void *Address);

EXPORT void *WINAPI AllocRoutine(void *Context, uint32_t Size) {
    (void)Context;
    uint64_t *p = malloc(16 + (size_t)Size);
    if (!p) return NULL;
    p[0] = Size;
    return p + 2;
}

EXPORT void WINAPI FreeRoutine(void *Context, void *Address) {
    (void)Context;
    volatile uint64_t *p = (volatile uint64_t *)Address - 2; /* NULL - 16: crashes */
    p[1] = p[0];
    free((void *)p);
}
