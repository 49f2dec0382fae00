/* Unit tests for the error table (include/alc/error.h). */
#include "alc/error.h"
#include "helpers.h"

Test(error, codes_are_negative_and_distinct_in_table_order) {
    cr_assert_eq(ALC_OK, 0);
    cr_assert_eq(ALC_E_NOMEM, -1);
    cr_assert_eq(ALC_E_INVAL, -2);
    cr_assert_lt(ALC_E_EXISTS, ALC_E_TIMEOUT);
}

Test(error, names_messages_and_rpc_codes_come_from_the_table) {
    cr_assert_str_eq(alc_err_name(ALC_OK), "ALC_OK");
    cr_assert_str_eq(alc_err_name(ALC_E_NOT_FOUND), "ALC_E_NOT_FOUND");
    cr_assert_str_eq(alc_err_message(ALC_E_NOMEM), "out of memory");
    cr_assert_eq(alc_err_rpc_code(ALC_E_PARSE), -32700);
    cr_assert_eq(alc_err_rpc_code(ALC_E_METHOD_NOT_FOUND), -32601);
    cr_assert_eq(alc_err_rpc_code(ALC_E_INVAL), -32602);
}

Test(error, unknown_codes_are_reported_not_crashed_on) {
    cr_assert_str_eq(alc_err_name(-9999), "ALC_E_UNKNOWN");
    cr_assert_str_eq(alc_err_name(5), "ALC_E_UNKNOWN");
    cr_assert_str_eq(alc_err_message(-9999), "unknown error");
    cr_assert_eq(alc_err_rpc_code(-9999), -32603);
}
