/*
 * test_golden.c — the model, API and OpenAPI emitters against golden copies
 * of their output for tests/fixtures/notes.schema (tests/gen/golden/), and
 * a determinism check (two runs, the same bytes).
 *
 * After an intended change to the output, refresh the copies with
 *     CB_UPDATE_GOLDEN=1 build/gen_test_golden
 * (run from the repository root) and review the diff like code.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "emit.h"
#include "parser.h"

#define SCHEMA "tests/fixtures/notes.schema"
#define GOLDEN_DIR "tests/gen/golden"

static int emit_all(const gen_schema *s, gen_outset *o)
{
    return gen_emit_models(s, SCHEMA, o) + gen_emit_api(s, SCHEMA, o) +
           gen_emit_openapi(s, SCHEMA, o);
}

/* The whole file, or NULL when it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *data = malloc(cap);
    while (data && (got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            data = realloc(data, cap *= 2);
    }
    fclose(f);
    *len = n;
    return data;
}

/* Names the first line where the output leaves the golden copy. */
static void report_diff(const char *name, const char *want, size_t wn, const char *got, size_t gn)
{
    size_t i = 0, line = 1;
    while (i < wn && i < gn && want[i] == got[i])
        line += want[i++] == '\n';
    size_t ws = i, gs = i;
    while (ws > 0 && want[ws - 1] != '\n')
        ws--;
    gs = ws;
    int wl = (int)strcspn(want + ws, "\n"), gl = (int)strcspn(got + gs, "\n");
    if (ws + (size_t)wl > wn)
        wl = (int)(wn - ws);
    if (gs + (size_t)gl > gn)
        gl = (int)(gn - gs);
    fprintf(stderr, "%s/%s:%zu: differs\n  golden: %.*s\n  output: %.*s\n", GOLDEN_DIR, name,
            line, wl, want + ws, gl, got + gs);
}

static void compare(const gen_file *f)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, f->name);
    size_t len = 0;
    char *want = slurp(path, &len);
    if (!want) {
        fprintf(stderr, "%s: missing (run with CB_UPDATE_GOLDEN=1)\n", path);
        CHECK(want != NULL);
        return;
    }
    bool same = len == f->buf.len && memcmp(want, f->buf.data, len) == 0;
    if (!same)
        report_diff(f->name, want, len, f->buf.data, f->buf.len);
    CHECK(same);
    free(want);
}

static void update(const gen_file *f)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, f->name);
    FILE *out = fopen(path, "wb");
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(fwrite(f->buf.data, 1, f->buf.len, out) == f->buf.len);
    CHECK(fclose(out) == 0);
    printf("wrote %s\n", path);
}

/* Every golden file must still be produced: a stale copy would hide the
   loss of an output. */
static void check_no_stale(const gen_outset *o)
{
    DIR *d = opendir(GOLDEN_DIR);
    CHECK(d != NULL);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        bool found = false;
        for (size_t i = 0; i < o->n; i++)
            found = found || strcmp(o->files[i].name, e->d_name) == 0;
        if (!found)
            fprintf(stderr, "%s/%s: no emitter writes it any more\n", GOLDEN_DIR, e->d_name);
        CHECK(found);
    }
    closedir(d);
}

static void check_deterministic(const gen_schema *s, const gen_outset *first)
{
    gen_outset again = {0};
    CHECK(emit_all(s, &again) == 0);
    CHECK(again.n == first->n);
    for (size_t i = 0; i < first->n && i < again.n; i++) {
        CHECK_STR(again.files[i].name, first->files[i].name);
        CHECK(again.files[i].buf.len == first->files[i].buf.len &&
              memcmp(again.files[i].buf.data, first->files[i].buf.data,
                     first->files[i].buf.len) == 0);
    }
    gen_outset_free(&again);
}

/* Facts about the output the golden copies could silently lose. */
static const gen_file *find(const gen_outset *o, const char *name)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->files[i].name, name) == 0)
            return &o->files[i];
    return NULL;
}

static bool contains(const gen_file *f, const char *text)
{
    return f && memmem(f->buf.data, f->buf.len, text, strlen(text)) != NULL;
}

/* Like contains, after joining the adjacent string literals that long SQL
   is split into ("...\n    "...). */
static bool contains_joined(const gen_file *f, const char *text)
{
    static const char split[] = "\"\n    \"";
    if (!f)
        return false;
    char *joined = malloc(f->buf.len + 1);
    size_t n = 0;
    CHECK(joined != NULL);
    if (!joined)
        return false;
    for (size_t i = 0; i < f->buf.len; i++) {
        if (i + sizeof split - 1 <= f->buf.len &&
            memcmp(f->buf.data + i, split, sizeof split - 1) == 0) {
            i += sizeof split - 2;
            continue;
        }
        joined[n++] = f->buf.data[i];
    }
    bool found = memmem(joined, n, text, strlen(text)) != NULL;
    free(joined);
    return found;
}

static void check_facts(const gen_outset *o)
{
    static const char *const names[] = {
        "sql.h", "sql.c", "models.h", "models.c", "api.h", "api.c", "hooks.h",
        "openapi.json", "openapi.c", "openapi.h",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const gen_file *f = find(o, names[i]);
        CHECK(f != NULL);
        CHECK(contains(f, "DO NOT EDIT: generated by chatbot-gen from " SCHEMA "."));
    }
    CHECK(contains(find(o, "hooks.h"),
                   "cb_rc cb_hook_note_before_create(cb_ctx *ctx, cb_note *row, cb_errors *errs);"));
    CHECK(contains(find(o, "hooks.h"), "int cb_route_health_get(cb_ctx *ctx);"));
    /* Keyset pagination over priority desc, created_at desc, then id desc. */
    CHECK(contains_joined(find(o, "sql.c"),
                          "FROM notes WHERE (priority < ?4 OR (priority = ?4 AND (created_at < ?5"
                          " OR (created_at = ?5 AND id < ?6)))) ORDER BY priority DESC,"
                          " created_at DESC, id DESC LIMIT ?3"));
    CHECK(contains_joined(find(o, "sql.c"),
                          "FROM tags WHERE note_id = ?2 AND id > ?4 ORDER BY id ASC LIMIT ?3"));
    CHECK(contains(find(o, "api.c"), "{\"GET\", \"/api/v1/notes/:note_id/tags\", cb_api_list, "
                                     "&cb_res_tags},"));
    CHECK(contains(find(o, "openapi.json"), "\"/api/v1/notes/{note_id}/tags/{id}\""));
    const gen_file *json = find(o, "openapi.json");
    CHECK(json && json->buf.len > 0 && json->buf.data[json->buf.len - 1] == '\n');
}

int main(void)
{
    gen_schema s = {0};
    int errors = gen_parse_file(SCHEMA, &s, stderr);
    CHECK(errors == 0);
    if (errors == 0)
        CHECK(gen_check(&s, stderr) == 0);
    if (check_failed)
        return check_done("test_golden");

    gen_outset o = {0};
    CHECK(emit_all(&s, &o) == 0);
    const char *mode = getenv("CB_UPDATE_GOLDEN");
    bool refresh = mode && strcmp(mode, "1") == 0;
    for (size_t i = 0; i < o.n; i++) {
        if (refresh)
            update(&o.files[i]);
        else
            compare(&o.files[i]);
    }
    if (!refresh)
        check_no_stale(&o);
    check_deterministic(&s, &o);
    check_facts(&o);
    gen_outset_free(&o);
    gen_schema_free(&s);
    return check_done("test_golden");
}
