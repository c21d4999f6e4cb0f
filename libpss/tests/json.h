/*
 * json.h -- a tiny JSON reader for the fixture's ground-truth line (tests only).
 * Parses into a tree of nodes owned by one arena; strings are unescaped (\uXXXX below
 * U+0080 only, which is all the fixture emits).
 */
#ifndef PSS_TEST_JSON_H
#define PSS_TEST_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    bool b;
    double num;
    long long inum; /* exact value of integral numbers */
    char *str;      /* JSON_STRING */
    char *key;      /* member name when inside an object */
    struct json *child; /* first element / member */
    struct json *next;  /* next sibling */
    size_t count;       /* number of children */
};

/* Returns NULL on a syntax error. */
struct json *json_parse(const char *text);
void json_free(struct json *j);

const struct json *json_get(const struct json *obj, const char *key);
const struct json *json_at(const struct json *arr, size_t index);
long long json_int(const struct json *obj, const char *key, long long dflt);
const char *json_str(const struct json *obj, const char *key); /* NULL if absent/null */
bool json_is_null(const struct json *obj, const char *key);

#endif
