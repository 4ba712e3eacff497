/* io/json.h - building JSON documents with libfyaml's emitter (run.json,
 * norn stats --json). A norn_json wraps a document and remembers any
 * failure, so a whole tree can be built and checked once at the end:
 *
 *   norn_json j;  norn_json_init(&j);
 *   struct fy_node *root = norn_json_map(&j);
 *   norn_json_set(&j, root, "rate_hz", norn_json_num(&j, 37.2));
 *   char *text = norn_json_finish(&j, root);   // NULL on any failure; free()
 *
 * Strings stay strings (never read back as numbers or booleans); numbers
 * are the shortest text that reads back exactly (io/fmt.h); NaN is null and
 * infinities are the strings "inf" and "-inf".
 */
#ifndef NORN_JSON_H
#define NORN_JSON_H

#include <libfyaml.h>

typedef struct {
    struct fy_document *d;
    int fail;
} norn_json;

void norn_json_init(norn_json *j); /* j->fail is set if the document cannot be made */
struct fy_node *norn_json_str(norn_json *j, const char *s);
struct fy_node *norn_json_num(norn_json *j, double x);
struct fy_node *norn_json_int(norn_json *j, unsigned long long x);
struct fy_node *norn_json_bool(norn_json *j, int x); /* true / false */
struct fy_node *norn_json_map(norn_json *j);
struct fy_node *norn_json_seq(norn_json *j);
void norn_json_set(norn_json *j, struct fy_node *map, const char *key, struct fy_node *val);
void norn_json_append(norn_json *j, struct fy_node *seq, struct fy_node *val);
/* The document as pretty JSON (malloc'd; free()), or NULL if anything
 * failed; the document is destroyed either way. */
char *norn_json_finish(norn_json *j, struct fy_node *root);

#endif
