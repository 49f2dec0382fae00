/* Unit tests for the request-tree arena (include/alc/json_arena.h). */
#include "alc/json_arena.h"

#include "helpers.h"

#include <cjson/cJSON.h>
#include <pthread.h>

static const char *REQ =
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
    "\"arguments\":{\"session_id\":\"s-0123\",\"response\":\"an answer\"}}}";

Test(json_arena, a_tree_parsed_in_the_arena_reads_like_any_other_and_frees_cleanly) {
    alc_json_arena_install();
    for (int round = 0; round < 3; round++) { /* the arena is reused after each reset */
        alc_json_arena_begin();
        cJSON *t = cJSON_Parse(REQ);
        alc_json_arena_end();
        cr_assert_not_null(t);
        const cJSON *args = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "params"), "arguments");
        cr_assert_str_eq(cJSON_GetObjectItem(args, "response")->valuestring, "an answer");
        /* what a handler keeps is copied outside the arena and outlives the reset */
        cJSON *id = cJSON_Duplicate(cJSON_GetObjectItem(t, "id"), 1);
        /* a malloc'd item put into an arena tree is freed with it */
        cJSON_AddItemToObject(t, "extra", cJSON_CreateString("added later"));
        cJSON_Delete(t);
        alc_json_arena_reset();
        cr_assert_eq(id->valueint, 7);
        cJSON_Delete(id);
    }
    ALC_ASSERT_NO_LEAKS();
}

Test(json_arena, a_tree_larger_than_the_arena_spills_to_malloc) {
    alc_json_arena_install();
    cJSON *big = cJSON_CreateArray();
    for (int i = 0; i < 5000; i++) cJSON_AddItemToArray(big, cJSON_CreateString("some text to fill the arena up"));
    char *text = cJSON_PrintUnformatted(big);
    cJSON_Delete(big);
    alc_json_arena_begin();
    cJSON *t = cJSON_Parse(text);
    alc_json_arena_end();
    cr_assert_not_null(t);
    cr_assert_eq(cJSON_GetArraySize(t), 5000);
    cr_assert_str_eq(cJSON_GetArrayItem(t, 4999)->valuestring, "some text to fill the arena up");
    cJSON_Delete(t);
    alc_json_arena_reset();
    free(text);
    ALC_ASSERT_NO_LEAKS();
}

static void *parse_elsewhere(void *arg) {
    (void)arg;
    cJSON *t = cJSON_Parse(REQ); /* another thread: plain malloc, even while the reader is inside */
    char *s = cJSON_PrintUnformatted(t);
    cJSON_Delete(t);
    return s;
}

Test(json_arena, other_threads_are_not_affected) {
    alc_json_arena_install();
    alc_json_arena_begin();
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, parse_elsewhere, NULL), 0);
    char *s = NULL;
    pthread_join(th, (void **)&s);
    alc_json_arena_end();
    alc_json_arena_reset();
    cr_assert_not_null(s);
    cr_assert_not_null(strstr(s, "an answer"));
    free(s);
    ALC_ASSERT_NO_LEAKS();
}
