/*
 * Loading a user's allocator library, with one clear error per way it can be wrong: not
 * readable, not a shared object of this platform, refused by the loader, symbols missing.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

int userlib_open(const char *path, void **handle, at_user_alloc_fn *alloc_fn,
                 at_user_free_fn *free_fn, at_user_ctor_fn *ctor, at_user_dtor_fn *dtor,
                 char *err, uint32_t err_len);
void userlib_close(void *handle);

#define ERR(...)                                                                                   \
    do {                                                                                           \
        if (err && err_len) snprintf(err, err_len, __VA_ARGS__);                                    \
    } while (0)

#if defined(__x86_64__) || defined(_M_X64)
#define HOST_ELF_MACHINE 62 /* EM_X86_64 */
#define HOST_PE_MACHINE 0x8664
#elif defined(__aarch64__)
#define HOST_ELF_MACHINE 183
#define HOST_PE_MACHINE 0xaa64
#else
#define HOST_ELF_MACHINE 0
#define HOST_PE_MACHINE 0
#endif

/* Reads the first bytes of the file; AT_OK or AT_E_NOT_READABLE / AT_E_NOT_SHARED. */
static int check_file(const char *path, char *err, uint32_t err_len) {
    unsigned char h[64];
    size_t got = 0;
    memset(h, 0, sizeof h);
#if defined(_WIN32)
    FILE *f = fopen(path, "rb");
    if (!f) {
        ERR("cannot read %s: %s", path, strerror(errno));
        return AT_E_NOT_READABLE;
    }
    got = fread(h, 1, sizeof h, f);
    fclose(f);
    if (got < 2 || h[0] != 'M' || h[1] != 'Z') {
        ERR("%s is not a shared library (no PE/MZ header)", path);
        return AT_E_NOT_SHARED;
    }
    return AT_OK;
#else
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ERR("cannot read %s: %s", path, strerror(errno));
        return AT_E_NOT_READABLE;
    }
    ssize_t n = read(fd, h, sizeof h);
    int read_errno = errno;
    close(fd);
    if (n < 0) {
        ERR("cannot read %s: %s", path, strerror(read_errno));
        return AT_E_NOT_READABLE;
    }
    got = (size_t)n;
    if (got < 20 || memcmp(h, "\x7f" "ELF", 4) != 0) {
        ERR("%s is not a shared object (no ELF header)", path);
        return AT_E_NOT_SHARED;
    }
    unsigned type = (unsigned)h[16] | (unsigned)h[17] << 8;
    unsigned machine = (unsigned)h[18] | (unsigned)h[19] << 8;
    if (h[4] != 2) {
        ERR("%s is a 32-bit ELF file: a 64-bit shared object is needed", path);
        return AT_E_NOT_SHARED;
    }
    if (type != 3) {
        ERR("%s is an ELF %s, not a shared object (build it with -shared -fPIC)", path,
            type == 2 ? "executable" : type == 1 ? "relocatable object" : "file of another type");
        return AT_E_NOT_SHARED;
    }
    if (HOST_ELF_MACHINE && machine != HOST_ELF_MACHINE) {
        ERR("%s is built for another machine (ELF e_machine %u, this one is %u)", path, machine,
            (unsigned)HOST_ELF_MACHINE);
        return AT_E_NOT_SHARED;
    }
    return AT_OK;
#endif
}

static void *lib_open(const char *path, char *err, uint32_t err_len) {
#if defined(_WIN32)
    HMODULE h = LoadLibraryA(path);
    if (!h) ERR("the loader refused %s (Windows error %lu)", path, (unsigned long)GetLastError());
    return (void *)h;
#else
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        ERR("the loader refused %s: %s", path, why ? why : "unknown reason");
    }
    return h;
#endif
}

static void *lib_sym(void *h, const char *name) {
#if defined(_WIN32)
    return (void *)GetProcAddress((HMODULE)h, name);
#else
    return dlsym(h, name);
#endif
}

void userlib_close(void *handle) {
    if (!handle) return;
#if defined(_WIN32)
    FreeLibrary((HMODULE)handle);
#else
    dlclose(handle);
#endif
}

int userlib_open(const char *path, void **handle, at_user_alloc_fn *alloc_fn,
                 at_user_free_fn *free_fn, at_user_ctor_fn *ctor, at_user_dtor_fn *dtor,
                 char *err, uint32_t err_len) {
    *handle = NULL;
    if (!path || !path[0]) {
        ERR("no user allocator library path given");
        return AT_E_ARGUMENT;
    }
    int rc = check_file(path, err, err_len);
    if (rc != AT_OK) return rc;
    void *h = lib_open(path, err, err_len);
    if (!h) return AT_E_LOAD;
    void *a = lib_sym(h, "AllocRoutine");
    void *f = lib_sym(h, "FreeRoutine");
    if (!a || !f) {
        ERR("%s does not export %s%s%s (see docs/user-allocator.md for the signatures)", path,
            a ? "" : "AllocRoutine", !a && !f ? " and " : "", f ? "" : "FreeRoutine");
        userlib_close(h);
        return AT_E_SYMBOLS;
    }
    /* function pointers from data pointers: POSIX guarantees dlsym's result converts */
    memcpy(alloc_fn, &a, sizeof a);
    memcpy(free_fn, &f, sizeof f);
    void *c = lib_sym(h, "AllocatorContextCreate");
    void *d = lib_sym(h, "AllocatorContextDestroy");
    memcpy(ctor, &c, sizeof c);
    memcpy(dtor, &d, sizeof d);
    *handle = h;
    return AT_OK;
}

AT_API int at_check_library(const char *path, char *err, uint32_t err_len) {
    void *h;
    at_user_alloc_fn a;
    at_user_free_fn f;
    at_user_ctor_fn c;
    at_user_dtor_fn d;
    if (err && err_len) err[0] = 0;
    int rc = userlib_open(path, &h, &a, &f, &c, &d, err, err_len);
    if (rc == AT_OK) userlib_close(h);
    return rc;
}

AT_API void *at_resolve(const char *module, const char *symbol) {
    if (!module || !symbol) return NULL;
#if defined(_WIN32)
    HMODULE h = GetModuleHandleA(module);
    return h ? (void *)GetProcAddress(h, symbol) : NULL;
#else
    void *h = dlopen(module, RTLD_NOW | RTLD_NOLOAD);
    if (!h) return NULL;
    void *p = dlsym(h, symbol);
    dlclose(h); /* drops the reference NOLOAD took; the module stays loaded */
    return p;
#endif
}

AT_API void *at_map_ring(const char *path, uint32_t bytes) {
#if defined(_WIN32)
    (void)path;
    (void)bytes;
    return NULL;
#else
    if (!path || bytes == 0) return NULL;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return NULL;
    void *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)bytes) == 0)
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
#endif
}

AT_API void at_unmap_ring(void *ring, uint32_t bytes) {
#if !defined(_WIN32)
    if (ring) munmap(ring, bytes);
#else
    (void)ring;
    (void)bytes;
#endif
}
