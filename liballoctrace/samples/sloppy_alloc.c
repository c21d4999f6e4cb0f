/*
 * A user allocator that breaks a rule the API states: its blocks are only 8-byte aligned (an
 * 8-byte size header in front of malloc's block), while a CONTEXT record walked into such a
 * block needs 16.  It has no context constructor (Context is NULL) and never returns memory
 * to libc before the process ends: freed blocks go on a list it never reuses (a leak).
 * PSS Inspector reports each misaligned block as a ViolationUserAllocator event.
 *
 *   cc -shared -fPIC -O2 -o libsloppy_alloc.so sloppy_alloc.c
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

static void *graveyard; /* freed blocks, chained through their first word: never reused */

EXPORT void *WINAPI AllocRoutine(void *Context, uint32_t Size) {
    (void)Context;
    uint64_t *p = malloc(sizeof(uint64_t) + (Size < 8 ? 8 : Size));
    if (!p) return NULL;
    p[0] = Size;
    return p + 1; /* malloc's 16-byte alignment + 8: misaligned */
}

EXPORT void WINAPI FreeRoutine(void *Context, void *Address) {
    (void)Context;
    if (!Address) return;
    void **block = Address;
    *block = graveyard; /* "freed": kept forever */
    graveyard = block;
}
