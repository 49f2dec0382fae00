/*
 * lua_libs.h — Layer-0 Lua libraries of alc that need no host context (spec §4.4.2, §4.4.4).
 *
 * Each opener expects the `alc` table at the top of the stack of L, stores its functions into
 * it and leaves the stack as it found it. They keep no C state, so they may run on whichever
 * thread owns L (normally a session thread, while the VM is being set up).
 */
#ifndef ALC_LUA_LIBS_H
#define ALC_LUA_LIBS_H

#include <lua.h>

/* Sets alc.match_enum, alc.match_bool and alc.chunk (src/lua/lib_text.c). */
void alc_lua_open_text(lua_State *L);

/* Sets alc.math = { rng_create, rng_float, ..., welch_t_test } (src/lua/lib_math.c). */
void alc_lua_open_math(lua_State *L);

#endif
