/*
 * json_arena.c — the bump arena for request trees (see json_arena.h).
 *
 * Owns: a static 64 KiB buffer and its fill mark, used only by the thread between begin and
 * end (the reader); the hooks installed into cJSON. A pointer inside the buffer is never passed
 * to free: the free hook tells arena memory from malloc memory by its address, so a tree that
 * spilled to malloc, or a malloc'd item put into an arena tree, is freed correctly by any
 * thread. Alignment: 16 bytes, like malloc's.
 */
#include "alc/json_arena.h"

#include <cjson/cJSON.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
/* ASan builds poison the unused part of the arena, so a pointer kept past a reset is caught */
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_BYTES (64 * 1024)

static alignas(16) unsigned char g_arena[ARENA_BYTES];
static size_t g_used;                 /* reader thread only */
static _Thread_local bool tls_active; /* this thread's cJSON allocations go to the arena */

static bool in_arena(const void *p) {
    return (uintptr_t)p - (uintptr_t)g_arena < (uintptr_t)ARENA_BYTES;
}

static void *arena_malloc(size_t n) {
    if (tls_active) {
        size_t need = (n + 15) & ~(size_t)15;
        if (need >= n && need <= ARENA_BYTES - g_used) {
            void *p = g_arena + g_used;
            g_used += need;
            UNPOISON(p, n);
            return p;
        }
    }
    return malloc(n);
}

static void arena_free(void *p) {
    if (!in_arena(p)) free(p);
}

void alc_json_arena_install(void) {
    cJSON_Hooks h = {.malloc_fn = arena_malloc, .free_fn = arena_free};
    cJSON_InitHooks(&h);
    POISON(g_arena, ARENA_BYTES);
}

void alc_json_arena_begin(void) { tls_active = true; }
void alc_json_arena_end(void) { tls_active = false; }
void alc_json_arena_reset(void) {
    POISON(g_arena, g_used);
    g_used = 0;
}
