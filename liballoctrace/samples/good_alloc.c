/*
 * A correct user allocator for PSS Inspector (docs/user-allocator.md): every block carries a
 * 16-byte header (so the block stays 16-byte aligned), the context counts live blocks, and
 * FreeRoutine accepts NULL.
 *
 *   cc -shared -fPIC -O2 -o libgood_alloc.so good_alloc.c
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

typedef struct context {
    uint64_t live_blocks;
    uint64_t live_bytes;
} context;

typedef struct header {
    uint64_t size;
    uint64_t magic;
} header;

#define MAGIC 0x5053535f414c4c43ull

EXPORT void *WINAPI AllocatorContextCreate(void);
EXPORT void WINAPI AllocatorContextDestroy(void *Context);
EXPORT void *WINAPI AllocRoutine(void *Context, uint32_t Size);
EXPORT void WINAPI FreeRoutine(void *Context, void *Address);

EXPORT void *WINAPI AllocatorContextCreate(void) {
    return calloc(1, sizeof(context));
}

EXPORT void WINAPI AllocatorContextDestroy(void *Context) {
    free(Context);
}

EXPORT void *WINAPI AllocRoutine(void *Context, uint32_t Size) {
    context *c = Context;
    header *h = malloc(sizeof(header) + Size);
    if (!h) return NULL;
    h->size = Size;
    h->magic = MAGIC;
    c->live_blocks++;
    c->live_bytes += Size;
    return h + 1;
}

EXPORT void WINAPI FreeRoutine(void *Context, void *Address) {
    context *c = Context;
    if (!Address) return; /* the API frees NULL for slots it never filled */
    header *h = (header *)Address - 1;
    if (h->magic != MAGIC) return;
    h->magic = 0;
    c->live_blocks--;
    c->live_bytes -= h->size;
    free(h);
}
