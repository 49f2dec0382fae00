/*
 * interrupt.c — stopping running Lua on request (cancellation checkpoint D).
 *
 * A cancel raises "cancelled" through a debug hook (stop_hook) that re-arms itself on every
 * line, so pcall cannot swallow it. Lua keeps hooks per lua_State and switches them off in
 * places a busy loop can hide; this file closes each gap:
 *  - coroutines: every state this thread is executing (main state plus the coroutines it has
 *    resumed, innermost last) is kept on a per-thread stack; arming stops all of them, and
 *    coroutine.resume/wrap arm a coroutine before resuming it once a stop is under way;
 *  - message handlers: when the stop hook raises, Lua calls the xpcall handler with hooks
 *    disabled, so handlers are wrapped to return at once while a stop is under way;
 *  - finalizers: Lua runs __gc with hooks disabled on the collecting state, so Lua-written
 *    finalizers run inside a fresh coroutine whose own count hook stops them on a cancel or
 *    after an instruction budget.
 *
 * Threads: all functions run on the thread that owns the Lua state; alc_lua_arm_stop_active
 * is also called from that thread's signal handler (it only stores into hook fields).
 */
#include "alc/lua_runtime.h"

#include <lauxlib.h>
#include <signal.h>
#include <string.h>

#define MAX_ACTIVE 256
#define GC_BUDGET_STEPS 10000 /* x 1000 instructions: a finalizer may run ~10M instructions */

static _Thread_local lua_State *active[MAX_ACTIVE];
static _Thread_local volatile sig_atomic_t n_active;

static void stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    /* keep raising on every line so that pcall cannot swallow the stop */
    lua_sethook(L, stop_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
    luaL_error(L, "cancelled");
}

/* Arms the stop hook on L. */
void alc_lua_arm_stop_hook(lua_State *L) {
    lua_sethook(L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

static bool stopping(lua_State *L) { return lua_gethook(L) == stop_hook; }

/* Arms every state this thread is executing. Async-signal-safe on this thread. */
void alc_lua_arm_stop_active(void) {
    int n = n_active;
    for (int i = 0; i < n && i < MAX_ACTIVE; i++) alc_lua_arm_stop_hook(active[i]);
}

/* Polling alternative for ThreadSanitizer builds: TSan delivers asynchronous signals only
 * when the thread calls an intercepted function, which a pure Lua loop never does, so there
 * a permanent count hook polls the session's cancel flag instead (costly: about 2x on tight
 * loops, see CONVENTIONS M5; never used in normal builds). */
static void poll_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    const alc_lua_host *h = alc_lua_host_of(L);
    if (h->cancelled(h->ud)) {
        alc_lua_arm_stop_hook(L);
        luaL_error(L, "cancelled");
    }
}

void alc_lua_install_poll_hook(lua_State *L) {
    lua_sethook(L, poll_hook, LUA_MASKCOUNT, 10000);
}

/* Marks L as executing on this thread (innermost last). */
void alc_lua_enter(lua_State *L) {
    int n = n_active;
    if (n < MAX_ACTIVE) active[n] = L;
    n_active = n + 1;
}

void alc_lua_leave(void) {
    if (n_active > 0) n_active = n_active - 1;
}

/* Before lua_close(L): make the main state stop at once if finalizers call back into Lua
 * code on it; Lua-written finalizers themselves are bounded by gc_guard below. */
void alc_lua_prepare_close(lua_State *L) {
    lua_sethook(L, stop_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* ---- coroutine.resume ----------------------------------------------------------------- */

static int l_resume(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    luaL_argexpected(L, co, 1, "coroutine");
    alc_lua_enter(co);
    /* checked after entering: a stop that arrives later arms co through the stack */
    if (stopping(L)) alc_lua_arm_stop_hook(co);
    lua_pushvalue(L, lua_upvalueindex(1));                       // co args... resume
    lua_insert(L, 1);                                            // resume co args...
    int st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    alc_lua_leave();
    if (st != LUA_OK) return lua_error(L);
    return lua_gettop(L);
}

/* ---- xpcall message handlers ------------------------------------------------------------ */

static int msgh_guard(lua_State *L) {
    /* while a stop is under way the handler may run with hooks off: do not call it */
    if (stopping(L)) return 1;                                   // err
    lua_pushvalue(L, lua_upvalueindex(1));                       // err handler
    lua_insert(L, 1);                                            // handler err
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int l_xpcall(lua_State *L) {
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, msgh_guard, 1);                          // f msgh args... guard
    lua_replace(L, 2);                                           // f guard args...
    lua_pushvalue(L, lua_upvalueindex(1));                       // f guard args... xpcall
    lua_insert(L, 1);                                            // xpcall f guard args...
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* ---- finalizers ------------------------------------------------------------------------ */

static void gc_budget_hook(lua_State *co, lua_Debug *ar) {
    (void)ar;
    long *steps = (long *)lua_getextraspace(co);
    const alc_lua_host *h = NULL;
    lua_getfield(co, LUA_REGISTRYINDEX, "alc.session");
    h = lua_touserdata(co, -1);
    lua_pop(co, 1);
    if (++*steps > GC_BUDGET_STEPS) luaL_error(co, "finalizer stopped: instruction budget exhausted");
    if (h && h->cancelled(h->ud)) luaL_error(co, "finalizer stopped: session cancelled");
}

static int gc_guard(lua_State *L) {
    lua_State *co = lua_newthread(L);                            // obj co
    *(long *)lua_getextraspace(co) = 0;
    lua_sethook(co, gc_budget_hook, LUA_MASKCOUNT, 1000);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 2);
    int nres = 0;
    alc_lua_enter(co);
    int st = lua_resume(co, L, 1, &nres);
    alc_lua_leave();
    if (st != LUA_OK && st != LUA_YIELD) {
        lua_xmove(co, L, 1);                                     // obj co err
        return lua_error(L);                                     // reported as a __gc warning
    }
    return 0;
}

static int l_setmetatable(lua_State *L) {
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_getfield(L, 2, "__gc");                              // t mt gc
        if (lua_isfunction(L, -1) && !lua_iscfunction(L, -1)) {
            lua_pushcclosure(L, gc_guard, 1);                    // t mt guarded
            lua_setfield(L, 2, "__gc");
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1));                       // t mt setmetatable
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* Wraps a global (or table field) function with a C closure taking the original as upvalue. */
static void wrap_field(lua_State *L, int table, const char *name, lua_CFunction fn) {
    table = lua_absindex(L, table);
    lua_getfield(L, table, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, table, name);
}

/* Installs the wrappers above into L's globals. Call during setup, after the libraries. */
void alc_lua_open_interrupt(lua_State *L) {
    lua_pushglobaltable(L);                                      // _G
    wrap_field(L, -1, "xpcall", l_xpcall);
    wrap_field(L, -1, "setmetatable", l_setmetatable);
    lua_getfield(L, -1, "coroutine");                            // _G coroutine
    wrap_field(L, -1, "resume", l_resume);
    lua_pop(L, 2);
    /* coroutine.wrap is rebuilt on top of the wrapped resume by boot.lua (runtime.c) */
}
