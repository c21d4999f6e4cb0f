/* json.c -- see json.h. */
#include "json.h"

#include <stdlib.h>
#include <string.h>

struct parser {
    const char *p;
};

static void skip_ws(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')
        ps->p++;
}

static struct json *node(enum json_type t)
{
    struct json *j = calloc(1, sizeof *j);
    if (j != NULL)
        j->type = t;
    return j;
}

static struct json *parse_value(struct parser *ps);

static char *parse_string(struct parser *ps)
{
    if (*ps->p != '"')
        return NULL;
    ps->p++;
    size_t cap = 32, len = 0;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    while (*ps->p != '"') {
        char c = *ps->p;
        if (c == '\0') {
            free(s);
            return NULL;
        }
        if (c == '\\') {
            ps->p++;
            char e = *ps->p;
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = ps->p[i];
                    v <<= 4;
                    if (h >= '0' && h <= '9')
                        v |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f')
                        v |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F')
                        v |= (unsigned)(h - 'A' + 10);
                    else {
                        free(s);
                        return NULL;
                    }
                }
                ps->p += 4;
                c = (char)(v < 0x80 ? v : '?');
                break;
            }
            default: c = e; break;
            }
        }
        if (len + 2 > cap) {
            cap *= 2;
            char *n = realloc(s, cap);
            if (n == NULL) {
                free(s);
                return NULL;
            }
            s = n;
        }
        s[len++] = c;
        ps->p++;
    }
    ps->p++;
    s[len] = '\0';
    return s;
}

static struct json *parse_container(struct parser *ps, bool object)
{
    struct json *j = node(object ? JSON_OBJECT : JSON_ARRAY);
    if (j == NULL)
        return NULL;
    ps->p++;
    skip_ws(ps);
    struct json **tail = &j->child;
    if (*ps->p == (object ? '}' : ']')) {
        ps->p++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (object) {
            key = parse_string(ps);
            skip_ws(ps);
            if (key == NULL || *ps->p != ':') {
                free(key);
                json_free(j);
                return NULL;
            }
            ps->p++;
        }
        struct json *v = parse_value(ps);
        if (v == NULL) {
            free(key);
            json_free(j);
            return NULL;
        }
        v->key = key;
        *tail = v;
        tail = &v->next;
        j->count++;
        skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == (object ? '}' : ']')) {
            ps->p++;
            return j;
        }
        json_free(j);
        return NULL;
    }
}

static struct json *parse_value(struct parser *ps)
{
    skip_ws(ps);
    const char *p = ps->p;
    if (*p == '{' || *p == '[')
        return parse_container(ps, *p == '{');
    if (*p == '"') {
        struct json *j = node(JSON_STRING);
        if (j == NULL)
            return NULL;
        j->str = parse_string(ps);
        if (j->str == NULL) {
            free(j);
            return NULL;
        }
        return j;
    }
    if (strncmp(p, "null", 4) == 0) {
        ps->p += 4;
        return node(JSON_NULL);
    }
    if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
        struct json *j = node(JSON_BOOL);
        if (j == NULL)
            return NULL;
        j->b = p[0] == 't';
        ps->p += j->b ? 4 : 5;
        return j;
    }
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
        struct json *j = node(JSON_NUMBER);
        if (j == NULL)
            return NULL;
        char *end;
        j->inum = strtoll(p, &end, 10);
        j->num = strtod(p, &end);
        ps->p = end;
        return j;
    }
    return NULL;
}

struct json *json_parse(const char *text)
{
    struct parser ps = {text};
    struct json *j = parse_value(&ps);
    if (j == NULL)
        return NULL;
    skip_ws(&ps);
    if (*ps.p != '\0') {
        json_free(j);
        return NULL;
    }
    return j;
}

void json_free(struct json *j)
{
    while (j != NULL) {
        struct json *next = j->next;
        json_free(j->child);
        free(j->str);
        free(j->key);
        free(j);
        j = next;
    }
}

const struct json *json_get(const struct json *obj, const char *key)
{
    if (obj == NULL || obj->type != JSON_OBJECT)
        return NULL;
    for (const struct json *c = obj->child; c != NULL; c = c->next)
        if (c->key != NULL && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

const struct json *json_at(const struct json *arr, size_t index)
{
    if (arr == NULL || arr->type != JSON_ARRAY)
        return NULL;
    const struct json *c = arr->child;
    for (size_t i = 0; c != NULL && i < index; i++)
        c = c->next;
    return c;
}

long long json_int(const struct json *obj, const char *key, long long dflt)
{
    const struct json *v = json_get(obj, key);
    return v != NULL && v->type == JSON_NUMBER ? v->inum : dflt;
}

const char *json_str(const struct json *obj, const char *key)
{
    const struct json *v = json_get(obj, key);
    return v != NULL && v->type == JSON_STRING ? v->str : NULL;
}

bool json_is_null(const struct json *obj, const char *key)
{
    const struct json *v = json_get(obj, key);
    return v == NULL || v->type == JSON_NULL;
}
