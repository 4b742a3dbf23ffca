/* test_comment.c — comment_parse_json() and comment_parse_form() against a
 * table of bodies.
 *
 * A case is one line: the body, the honeypot name, the expected status (with
 * the field and a fragment of the message on error), and on success the value
 * every field must hold (NULL: absent). On error every field must be absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "raqib/comment.h"

enum kind { JSON, FORM };

struct parse_case {
    enum kind kind;
    const char *body;
    size_t len;                 /* 0: strlen(body) */
    const char *honeypot;
    enum parse_status status;
    const char *err_field;      /* on error: expected err.field */
    const char *msg;            /* on error: fragment of err.message */
    int honeypot_filled;
    int has_rendered_at;
    int64_t rendered_at;
    const char *want[CF_COUNT]; /* on success: every field, NULL = absent */
};

#define OK PARSE_OK, NULL, NULL
#define W(...) { __VA_ARGS__ }
#define HAPPY "{\"site\":\"blog\",\"post_id\":\"42\",\"parent_id\":\"7\",\"author\":\"Layla\"," \
    "\"email\":\"layla@example.com\",\"url\":\"https://layla.example/\",\"content\":\"مقال رائع، شكرا\"," \
    "\"ip\":\"203.0.113.5\",\"user_agent\":\"Mozilla/5.0\",\"referrer\":\"https://blog.example/p/42\"," \
    "\"lang\":\"ar\"}"

static const struct parse_case cases[] = {
    /* ---- JSON ---- */
    { JSON, HAPPY, 0, NULL, OK, 0, 0, 0, W([CF_SITE] = "blog", [CF_POST_ID] = "42", [CF_PARENT_ID] = "7", [CF_AUTHOR] = "Layla", [CF_EMAIL] = "layla@example.com", [CF_URL] = "https://layla.example/", [CF_CONTENT] = "مقال رائع، شكرا", [CF_IP] = "203.0.113.5", [CF_USER_AGENT] = "Mozilla/5.0", [CF_REFERRER] = "https://blog.example/p/42", [CF_LANG] = "ar") },
    { JSON, "{\"post_id\":42,\"parent_id\":-3}", 0, NULL, OK, 0, 0, 0, W([CF_POST_ID] = "42", [CF_PARENT_ID] = "-3") },
    { JSON, "{\"post_id\":9007199254740993}", 0, NULL, OK, 0, 0, 0, W([CF_POST_ID] = "9007199254740993") },
    { JSON, "{\"author\":null,\"content\":\"x\"}", 0, NULL, OK, 0, 0, 0, W([CF_CONTENT] = "x") },
    { JSON, "{\"content\":\"\"}", 0, NULL, OK, 0, 0, 0, W([CF_CONTENT] = "") },
    { JSON, "{\"foo\":\"bar\",\"n\":1,\"b\":true,\"post_id\":\"1\"}", 0, NULL, OK, 0, 0, 0, W([CF_POST_ID] = "1") },
    { JSON, "{\"author\":\"\\u0644\\u064a\\u0644\\u0649\"}", 0, NULL, OK, 0, 0, 0, W([CF_AUTHOR] = "ليلى") },
    { JSON, "{\"content\":\"\\ud83d\\ude00\"}", 0, NULL, OK, 0, 0, 0, W([CF_CONTENT] = "\xf0\x9f\x98\x80") },
    { JSON, "  {}  \n", 0, NULL, OK, 0, 0, 0, W(0) },
    { JSON, "{\"post_id\":4.2}", 0, NULL, PARSE_BAD_TYPE, "post_id", "field 'post_id' must be a string or an integer", 0, 0, 0, W(0) },
    { JSON, "{\"parent_id\":true}", 0, NULL, PARSE_BAD_TYPE, "parent_id", "string or an integer", 0, 0, 0, W(0) },
    { JSON, "{\"post_id\":\"1\",\"author\":42}", 0, NULL, PARSE_BAD_TYPE, "author", "field 'author' must be a string", 0, 0, 0, W(0) },
    { JSON, "{\"email\":false}", 0, NULL, PARSE_BAD_TYPE, "email", "field 'email' must be a string", 0, 0, 0, W(0) },
    { JSON, "{\"content\":{\"text\":\"hi\"}}", 0, NULL, PARSE_BAD_TYPE, "content", "object or an array", 0, 0, 0, W(0) },
    { JSON, "{\"url\":[\"a\"]}", 0, NULL, PARSE_BAD_TYPE, "url", "object or an array", 0, 0, 0, W(0) },
    { JSON, "{\"post_id\":\"1\",\"extra\":[1,2]}", 0, NULL, PARSE_BAD_TYPE, "extra", "object or an array", 0, 0, 0, W(0) },
    { JSON, "{\"author\":\"Lay\\u0000la\"}", 0, NULL, PARSE_BAD_UTF8, "author", "field 'author' contains a NUL", 0, 0, 0, W(0) },
    { JSON, "{\"post_id\":\"1\",\"content\":\"\\u0000\"}", 0, NULL, PARSE_BAD_UTF8, "content", "NUL", 0, 0, 0, W(0) },
    { JSON, "{\"author\":\"Lay\xffla\"}", 0, NULL, PARSE_BAD_UTF8, "", "not valid UTF-8", 0, 0, 0, W(0) },
    { JSON, "{\"author\":\"\xc0\xaf\"}", 0, NULL, PARSE_BAD_UTF8, "", "offset 11", 0, 0, 0, W(0) },
    { JSON, "{\"author\":\"\xed\xa0\x80\"}", 0, NULL, PARSE_BAD_UTF8, "", "not valid UTF-8", 0, 0, 0, W(0) },
    { JSON, "{\"author\":\"\xd9\"}", 0, NULL, PARSE_BAD_UTF8, "", "not valid UTF-8", 0, 0, 0, W(0) },
    { JSON, "[1,2]", 0, NULL, PARSE_MALFORMED, "", "must be a JSON object", 0, 0, 0, W(0) },
    { JSON, "\"hello\"", 0, NULL, PARSE_MALFORMED, "", "must be a JSON object", 0, 0, 0, W(0) },
    { JSON, "null", 0, NULL, PARSE_MALFORMED, "", "must be a JSON object", 0, 0, 0, W(0) },
    { JSON, "{\"author\":", 0, NULL, PARSE_MALFORMED, "", "body is not valid JSON: ", 0, 0, 0, W(0) },
    { JSON, "{\"a\":1}\n{\"b\":2}", 0, NULL, PARSE_MALFORMED, "", "at line 2 column", 0, 0, 0, W(0) },
    { JSON, "", 0, NULL, PARSE_MALFORMED, "", "not valid JSON", 0, 0, 0, W(0) },
    { JSON, "{'author':'x'}", 0, NULL, PARSE_MALFORMED, "", "line 1 column", 0, 0, 0, W(0) },
    { JSON, "{\"author\":\"a\",\"author\":\"b\"}", 0, NULL, PARSE_MALFORMED, "", "duplicate", 0, 0, 0, W(0) },
    { JSON, "{\"content\":\"\\ud800\"}", 0, NULL, PARSE_MALFORMED, "", "not valid JSON", 0, 0, 0, W(0) },
    { JSON, "{\"content\":\"a\0b\"}", 15, NULL, PARSE_MALFORMED, "", "not valid JSON", 0, 0, 0, W(0) },
    /* honeypot */
    { JSON, "{\"post_id\":\"1\",\"website2\":\"http://spam\"}", 0, "website2", OK, 1, 0, 0, W([CF_POST_ID] = "1") },
    { JSON, "{\"post_id\":\"1\",\"website2\":\"\"}", 0, "website2", OK, 0, 0, 0, W([CF_POST_ID] = "1") },
    { JSON, "{\"post_id\":\"1\",\"website2\":null}", 0, "website2", OK, 0, 0, 0, W([CF_POST_ID] = "1") },
    { JSON, "{\"post_id\":\"1\",\"website2\":1}", 0, "website2", OK, 1, 0, 0, W([CF_POST_ID] = "1") },
    { JSON, "{\"post_id\":\"1\",\"website2\":\"x\"}", 0, NULL, OK, 0, 0, 0, W([CF_POST_ID] = "1") },
    { JSON, "{\"post_id\":\"1\",\"website3\":\"x\"}", 0, "website2", OK, 0, 0, 0, W([CF_POST_ID] = "1") },
    /* form_rendered_at */
    { JSON, "{\"form_rendered_at\":1700000000}", 0, NULL, OK, 0, 1, 1700000000, W(0) },
    { JSON, "{\"form_rendered_at\":\"1700000000\"}", 0, NULL, OK, 0, 1, 1700000000, W(0) },
    { JSON, "{\"form_rendered_at\":null}", 0, NULL, OK, 0, 0, 0, W(0) },
    { JSON, "{\"form_rendered_at\":\"soon\"}", 0, NULL, PARSE_BAD_TYPE, "form_rendered_at", "integer", 0, 0, 0, W(0) },
    { JSON, "{\"form_rendered_at\":1.5}", 0, NULL, PARSE_BAD_TYPE, "form_rendered_at", "integer", 0, 0, 0, W(0) },
    { JSON, "{\"form_rendered_at\":\"\"}", 0, NULL, PARSE_BAD_TYPE, "form_rendered_at", "integer", 0, 0, 0, W(0) },

    /* ---- form ---- */
    { FORM, "comment_post_ID=42&author=Layla&email=layla%40example.com&url=&comment=Hello+world&comment_parent=7&submit=Post+Comment", 0, NULL, OK, 0, 0, 0, W([CF_POST_ID] = "42", [CF_AUTHOR] = "Layla", [CF_EMAIL] = "layla@example.com", [CF_URL] = "", [CF_CONTENT] = "Hello world", [CF_PARENT_ID] = "7") },
    { FORM, "post_id=1&content=hi&site=blog&lang=ar&ip=::1", 0, NULL, OK, 0, 0, 0, W([CF_POST_ID] = "1", [CF_CONTENT] = "hi", [CF_SITE] = "blog", [CF_LANG] = "ar", [CF_IP] = "::1") },
    { FORM, "author=%D9%84%D9%8A%D9%84%D9%89&comment=%D9%85%D9%82%D8%A7%D9%84+%D8%B1%D8%A7%D8%A6%D8%B9", 0, NULL, OK, 0, 0, 0, W([CF_AUTHOR] = "ليلى", [CF_CONTENT] = "مقال رائع") },
    { FORM, "comment=a+b%2Bc%20d%25e&author=%d9%84", 0, NULL, OK, 0, 0, 0, W([CF_CONTENT] = "a b+c d%e", [CF_AUTHOR] = "ل") },
    { FORM, "comment_post_ID=42&comment_parent=0", 0, NULL, OK, 0, 0, 0, W([CF_POST_ID] = "42") },
    { FORM, "comment_parent=5&comment_parent=0", 0, NULL, OK, 0, 0, 0, W(0) },
    { FORM, "parent_id=0", 0, NULL, OK, 0, 0, 0, W([CF_PARENT_ID] = "0") },
    { FORM, "author=a&author=b", 0, NULL, OK, 0, 0, 0, W([CF_AUTHOR] = "b") },
    { FORM, "", 0, NULL, OK, 0, 0, 0, W(0) },
    { FORM, "&&author=a&&=x&", 0, NULL, OK, 0, 0, 0, W([CF_AUTHOR] = "a") },
    { FORM, "author", 0, NULL, OK, 0, 0, 0, W([CF_AUTHOR] = "") },
    { FORM, "comment=a=b", 0, NULL, OK, 0, 0, 0, W([CF_CONTENT] = "a=b") },
    { FORM, "x=%FF&post_id=1", 0, NULL, OK, 0, 0, 0, W([CF_POST_ID] = "1") },
    { FORM, "comment%5Fpost%5FID=3", 0, NULL, OK, 0, 0, 0, W([CF_POST_ID] = "3") },
    { FORM, "form_rendered_at=1700000000&post_id=1", 0, NULL, OK, 0, 1, 1700000000, W([CF_POST_ID] = "1") },
    { FORM, "form_rendered_at=abc", 0, NULL, PARSE_BAD_TYPE, "form_rendered_at", "integer", 0, 0, 0, W(0) },
    { FORM, "hp=bot&post_id=1", 0, "hp", OK, 1, 0, 0, W([CF_POST_ID] = "1") },
    { FORM, "hp=&post_id=1", 0, "hp", OK, 0, 0, 0, W([CF_POST_ID] = "1") },
    { FORM, "hp=%FF", 0, "hp", OK, 1, 0, 0, W(0) },
    { FORM, "author=Layla&comment=100%", 0, NULL, PARSE_MALFORMED, "", "bad %-escape", 0, 0, 0, W(0) },
    { FORM, "author=Layla&comment=%G1", 0, NULL, PARSE_MALFORMED, "", "bad %-escape", 0, 0, 0, W(0) },
    { FORM, "author=Layla&comment=%4", 0, NULL, PARSE_MALFORMED, "", "at byte 13", 0, 0, 0, W(0) },
    { FORM, "auth%or=Layla", 0, NULL, PARSE_MALFORMED, "", "bad %-escape", 0, 0, 0, W(0) },
    { FORM, "author=Lay%00la", 0, NULL, PARSE_BAD_UTF8, "author", "field 'author' contains a NUL", 0, 0, 0, W(0) },
    { FORM, "post_id=1&comment=%FF", 0, NULL, PARSE_BAD_UTF8, "comment", "field 'comment' is not valid UTF-8", 0, 0, 0, W(0) },
    { FORM, "author=%C0%AF", 0, NULL, PARSE_BAD_UTF8, "author", "not valid UTF-8", 0, 0, 0, W(0) },
    { FORM, "author=%D9", 0, NULL, PARSE_BAD_UTF8, "author", "not valid UTF-8", 0, 0, 0, W(0) },
};

/* Check one case; returns 1 when it held, else prints why and returns 0. */
static int check_case(size_t i, const struct parse_case *t)
{
    struct comment c;
    struct parse_error err;
    size_t len = t->len ? t->len : strlen(t->body);
    int rc = t->kind == JSON ? comment_parse_json(&c, t->body, len, t->honeypot, &err)
                             : comment_parse_form(&c, t->body, len, t->honeypot, &err);
    int ok = 1;
    char why[512] = "";
    if (rc != (t->status == PARSE_OK ? 0 : -1) || err.status != t->status) {
        snprintf(why, sizeof why, "rc %d status %d, want status %d (%s)", rc, err.status,
                 t->status, err.message);
        ok = 0;
    } else if (t->status != PARSE_OK) {
        if (strcmp(err.field, t->err_field) != 0 || strstr(err.message, t->msg) == NULL) {
            snprintf(why, sizeof why, "error field '%s' message \"%s\", want '%s' \"%s\"",
                     err.field, err.message, t->err_field, t->msg);
            ok = 0;
        }
    } else if (c.honeypot_filled != t->honeypot_filled
               || c.has_form_rendered_at != t->has_rendered_at
               || (t->has_rendered_at && c.form_rendered_at != t->rendered_at)) {
        snprintf(why, sizeof why, "honeypot %d rendered_at %d/%lld", c.honeypot_filled,
                 c.has_form_rendered_at, (long long)c.form_rendered_at);
        ok = 0;
    }
    for (int f = 0; ok && f < CF_COUNT; f++) {
        const char *want = t->status == PARSE_OK ? t->want[f] : NULL;
        const char *got = c.field[f];
        if ((want == NULL) != (got == NULL)
            || (want && (strcmp(want, got) != 0 || c.len[f] != strlen(want)))) {
            snprintf(why, sizeof why, "field %s = \"%s\", want \"%s\"", comment_field_name(f),
                     got ? got : "(absent)", want ? want : "(absent)");
            ok = 0;
        }
    }
    if (!ok)
        print_error("case %zu %s \"%s\": %s\n", i, t->kind == JSON ? "json" : "form", t->body, why);
    comment_free(&c);
    return ok;
}

static void test_parse_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        failures += !check_case(i, &cases[i]);
    assert_int_equal(failures, 0);
}

static void test_field_names(void **state)
{
    (void)state;
    static const char *const names[CF_COUNT] = {
        "site", "post_id", "parent_id", "author", "email", "url",
        "content", "ip", "user_agent", "referrer", "lang",
    };
    for (int f = 0; f < CF_COUNT; f++)
        assert_string_equal(comment_field_name(f), names[f]);
    assert_string_equal(comment_field_name(CF_COUNT), "");
}

/* comment_set copies, replaces the old value, and comment_free empties. */
static void test_set_and_free(void **state)
{
    (void)state;
    struct comment c;
    memset(&c, 0, sizeof c);
    char buf[] = "Layla";
    assert_int_equal(comment_set(&c, CF_AUTHOR, buf, 3), 0);
    buf[0] = 'X';
    assert_string_equal(c.field[CF_AUTHOR], "Lay");
    assert_int_equal(c.len[CF_AUTHOR], 3);
    assert_int_equal(comment_set(&c, CF_AUTHOR, "ليلى", strlen("ليلى")), 0);
    assert_string_equal(c.field[CF_AUTHOR], "ليلى");
    assert_int_equal(comment_set(&c, CF_URL, "", 0), 0);
    assert_string_equal(c.field[CF_URL], "");
    comment_free(&c);
    assert_null(c.field[CF_AUTHOR]);
    assert_null(c.field[CF_URL]);
    comment_free(&c);
}

/* A parse error after some fields were read still leaves nothing behind. */
static void test_error_leaves_empty(void **state)
{
    (void)state;
    struct comment c;
    struct parse_error err;
    const char *body = "{\"author\":\"Layla\",\"content\":\"hi\",\"email\":7}";
    assert_int_equal(comment_parse_json(&c, body, strlen(body), NULL, &err), -1);
    for (int f = 0; f < CF_COUNT; f++)
        assert_null(c.field[f]);
    comment_free(&c);
}

/* A very long unknown key is cut to fit err.field without splitting a character. */
static void test_long_key_truncated(void **state)
{
    (void)state;
    char body[512];
    char key[300] = "";
    for (int i = 0; i < 40; i++)
        strcat(key, "ل");
    snprintf(body, sizeof body, "{\"%s\":[1]}", key);
    struct comment c;
    struct parse_error err;
    assert_int_equal(comment_parse_json(&c, body, strlen(body), NULL, &err), -1);
    assert_int_equal(err.status, PARSE_BAD_TYPE);
    assert_true(strlen(err.field) < sizeof err.field);
    assert_int_equal(strncmp(err.field, key, 62), 0);
    assert_true(strchr(err.field, '?') == NULL || err.field[62] == '?');
    comment_free(&c);
}

/* Both readers leave the same comment behind (fields, lengths, signals). */
static void assert_same_comment(const struct comment *a, const struct comment *b, const char *body)
{
    for (int f = 0; f < CF_COUNT; f++) {
        if (!a->field[f] != !b->field[f] || (a->field[f] && (a->len[f] != b->len[f] ||
                                                             memcmp(a->field[f], b->field[f], a->len[f]) != 0)))
            fail_msg("field %s differs between the readers on %s", comment_field_name((enum comment_field)f), body);
    }
    assert_int_equal(a->honeypot_filled, b->honeypot_filled);
    assert_int_equal(a->has_form_rendered_at, b->has_form_rendered_at);
    assert_int_equal(a->form_rendered_at, b->form_rendered_at);
}

/* The fast JSON path reads the ordinary bodies, declines the unusual ones,
 * and whatever it reads, jansson reads the same way. */
static const struct { const char *body; int fast; } fast_cases[] = {
    { HAPPY, 1 },
    { " {\"post_id\": 42 , \"parent_id\":-7,\"content\":\"a\\n\\\"b\\\"\\\\ \\/ \\b\\f\\r\\t\"}\n", 1 },
    { "{\"content\":\"\\u0627\\u0644 \\ud83d\\ude00 \\u00e9\",\"author\":\"x\"}", 1 },
    { "{\"website2\":\"spam\",\"form_rendered_at\":1700000000,\"extra\":true,\"n\":null}", 1 },
    { "{\"website2\":\"\",\"form_rendered_at\":\"1700000000\",\"flag\":false}", 1 },
    { "{\"website2\":0,\"author\":null}", 1 },
    { "{}", 1 },
    { "{\"content\":\"\\u0000\"}", 0 },        /* NUL: jansson's error names the field */
    { "{\"x\":\"\\u0000\"}", 1 },              /* in a field nobody reads: fine */
    { "{\"post_id\":1.5}", 0 },
    { "{\"post_id\":1e3}", 0 },
    { "{\"post_id\":-0}", 0 },
    { "{\"post_id\":0123}", 0 },
    { "{\"post_id\":1234567890123456789}", 0 },
    { "{\"content\":7}", 0 },
    { "{\"content\":true}", 0 },
    { "{\"a\":1,\"a\":2}", 0 },
    { "{\"a\":[1]}", 0 },
    { "{\"a\":{}}", 0 },
    { "{\"content\":\"\\ud800\"}", 0 },
    { "{\"content\":\"\\udc00x\"}", 0 },
    { "{\"content\":\"\\x\"}", 0 },
    { "{\"content\":\"tab\there\"}", 0 },
    { "{\"content\":\"x\"} x", 0 },
    { "{\"content\":\"x\",}", 0 },
    { "{\"content\":\"x\"", 0 },
    { "[1]", 0 },
    { "\xef\xbb\xbf{}", 0 },
    { "{\"form_rendered_at\":\"soon\"}", 0 },
    { "{\"form_rendered_at\":true}", 0 },
    { "{\"content\":\"\xff\"}", 0 },
};

static void test_fast_path(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fast_cases / sizeof fast_cases[0]; i++) {
        const char *body = fast_cases[i].body;
        struct comment fast, ref;
        struct parse_error err;
        int took = comment_parse_json_fast(&fast, body, strlen(body), "website2");
        if (took != fast_cases[i].fast)
            fail_msg("case %zu %s: the fast path %s it", i, body, took ? "read" : "declined");
        int rc = comment_parse_json_jansson(&ref, body, strlen(body), "website2", &err);
        if (took) {
            assert_int_equal(rc, 0);
            assert_same_comment(&fast, &ref, body);
        }
        comment_free(&fast);
        comment_free(&ref);
    }
    /* And over the parse table: comment_parse_json == the jansson reader. */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].kind != JSON)
            continue;
        const struct parse_case *t = &cases[i];
        size_t len = t->len ? t->len : strlen(t->body);
        struct comment a, b;
        struct parse_error ea, eb;
        int ra = comment_parse_json(&a, t->body, len, t->honeypot, &ea);
        int rb = comment_parse_json_jansson(&b, t->body, len, t->honeypot, &eb);
        assert_int_equal(ra, rb);
        if (ra == 0)
            assert_same_comment(&a, &b, t->body);
        else
            assert_string_equal(ea.message, eb.message);
        comment_free(&a);
        comment_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_field_names),
        cmocka_unit_test(test_set_and_free),
        cmocka_unit_test(test_error_leaves_empty),
        cmocka_unit_test(test_long_key_truncated),
        cmocka_unit_test(test_fast_path),
    };
    return cmocka_run_group_tests_name("comment", tests, NULL, NULL);
}
