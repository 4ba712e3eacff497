/* io/json.c - JSON documents through libfyaml (see json.h). */
#include "io/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fmt.h"

void norn_json_init(norn_json *j)
{
    j->d = fy_document_create(NULL);
    j->fail = j->d == NULL;
}

/* A double-quoted YAML scalar, so the emitter keeps it a JSON string. */
struct fy_node *norn_json_str(norn_json *j, const char *s)
{
    if (!j->d) {
        j->fail = 1;
        return NULL;
    }
    if (!s)
        s = "";
    size_t n = strlen(s);
    char *q = malloc(6 * n + 3); /* plain malloc: the document takes it over */
    if (!q) {
        j->fail = 1;
        return NULL;
    }
    size_t o = 0;
    q[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            q[o++] = '\\';
            q[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)sprintf(q + o, "\\x%02x", c);
        } else {
            q[o++] = (char)c;
        }
    }
    q[o++] = '"';
    q[o] = 0;
    struct fy_node *node = fy_node_build_from_malloc_string(j->d, q, o);
    if (!node) {
        free(q);
        j->fail = 1;
    }
    return node;
}

static struct fy_node *plain(norn_json *j, const char *text)
{
    struct fy_node *n = j->d ? fy_node_create_scalar_copy(j->d, text, FY_NT) : NULL;
    if (!n)
        j->fail = 1;
    return n;
}

struct fy_node *norn_json_num(norn_json *j, double x)
{
    char buf[64];
    if (isnan(x))
        return plain(j, "null");
    if (isinf(x))
        return norn_json_str(j, x > 0 ? "inf" : "-inf");
    norn_fmt_double(buf, sizeof buf, x);
    return plain(j, buf);
}

struct fy_node *norn_json_bool(norn_json *j, int x) { return plain(j, x ? "true" : "false"); }

struct fy_node *norn_json_int(norn_json *j, unsigned long long x)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", x);
    return plain(j, buf);
}

struct fy_node *norn_json_map(norn_json *j)
{
    struct fy_node *n = j->d ? fy_node_create_mapping(j->d) : NULL;
    if (!n)
        j->fail = 1;
    return n;
}

struct fy_node *norn_json_seq(norn_json *j)
{
    struct fy_node *n = j->d ? fy_node_create_sequence(j->d) : NULL;
    if (!n)
        j->fail = 1;
    return n;
}

void norn_json_set(norn_json *j, struct fy_node *map, const char *key, struct fy_node *val)
{
    if (!map || !val || fy_node_mapping_append(map, norn_json_str(j, key), val) != 0)
        j->fail = 1;
}

void norn_json_append(norn_json *j, struct fy_node *seq, struct fy_node *val)
{
    if (!seq || !val || fy_node_sequence_append(seq, val) != 0)
        j->fail = 1;
}

char *norn_json_finish(norn_json *j, struct fy_node *root)
{
    char *text = NULL;
    if (!j->fail && root && fy_document_set_root(j->d, root) == 0)
        text = fy_emit_document_to_string(j->d, FYECF_MODE_JSON);
    if (j->d)
        fy_document_destroy(j->d);
    j->d = NULL;
    return text;
}
