/* A shared object that is not an allocator library: it lacks AllocRoutine/FreeRoutine. */
#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif
EXPORT int NotAnAllocator(void);
EXPORT int NotAnAllocator(void) {
    return 42;
}
