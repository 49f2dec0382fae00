/*
 * json_arena.h — a bump arena for the cJSON tree of each incoming JSON-RPC line.
 *
 * Parsing a request makes about twenty small cJSON allocations and the tree is freed as soon
 * as the request is handled (anything kept is copied first: call ids, progress tokens, answer
 * texts, ctx). Between alc_json_arena_begin and _end, cJSON allocations made by the calling
 * thread come from one static 64 KiB buffer instead of malloc (spilling to malloc when it is
 * full); freeing them is a no-op; alc_json_arena_reset reuses the buffer once the tree is gone.
 *
 * Threads: install once, before other threads use cJSON. begin / end / reset only on the one
 * thread that parses requests (the reader); every other thread's cJSON use is unaffected (its
 * allocations go to malloc, and freeing them goes to free).
 */
#ifndef ALC_JSON_ARENA_H
#define ALC_JSON_ARENA_H

/* Routes cJSON's allocations through the arena's hooks (cJSON_InitHooks). Idempotent. */
void alc_json_arena_install(void);

/* The calling thread's cJSON allocations come from the arena until _end. */
void alc_json_arena_begin(void);
void alc_json_arena_end(void);

/* Starts the arena afresh. Call only when no tree allocated from it is alive any more. */
void alc_json_arena_reset(void);

#endif
