/*
 * test_migration_new.c — `chatbot-gen migration`: each kind of schema change
 * becomes the statement SQLite needs (CREATE, ADD COLUMN, the rebuild
 * recipe, DROP, indexes, FTS, renames from hints), a schema that matches
 * the history writes nothing, and an unmigratable change is refused.
 * Everything happens in a fresh temporary directory.
 */
#include "check.h"
#include "emit.h"
#include "migrations.h"
#include "names.h"
#include "parser.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char diag_text[4096];

/* Runs `chatbot-gen migration` for schema `src`; the diagnostics land in
   diag_text. */
static int migrate(const char *src, const char *message)
{
    gen_schema s;
    FILE *diag = fmemopen(diag_text, sizeof diag_text, "w");
    int rc = gen_parse("test.schema", src, strlen(src), &s, diag) || gen_check(&s, diag);
    if (!rc)
        rc = gen_migration_new(&s, dir, message, diag);
    else
        rc = -1;
    fclose(diag);
    gen_schema_free(&s);
    return rc;
}

/* The up and down of the newest migration, "" when there is none. */
static gen_mig latest;
static gen_mig_set loaded;

static const gen_mig *newest(void)
{
    gen_migrations_free(&loaded);
    CHECK(gen_migrations_load(dir, &loaded, stderr) == 0);
    static gen_mig none = {0, "", "", "", ""};
    latest = loaded.n ? loaded.items[loaded.n - 1] : none;
    return &latest;
}

static bool has(const char *text, const char *needle)
{
    bool found = strstr(text, needle) != NULL;
    if (!found)
        fprintf(stderr, "--- expected \"%s\" in:\n%s---\n", needle, text);
    return found;
}

#define BASE_NOTE \
    "model note {\n    table notes\n    id id\n    title text(100)\n"

static void test_initial_and_no_change(void)
{
    const char *v1 = BASE_NOTE "}\n";
    CHECK(migrate(v1, "Initial schema!") == 0);
    char path[128];
    snprintf(path, sizeof path, "%s/0001_initial_schema.sql", dir);
    CHECK(access(path, F_OK) == 0);
    const gen_mig *m = newest();
    CHECK(m->version == 1);
    CHECK(has(m->up, "CREATE TABLE notes ("));
    CHECK(has(m->down, "DROP TABLE notes;"));
    CHECK(migrate(v1, "again") == 2);
    CHECK(has(diag_text, "no changes: schema matches the migrations"));
    CHECK(newest()->version == 1);
}

static void test_add_columns(void)
{
    CHECK(migrate(BASE_NOTE "    stars int default(0)\n    color text(20) optional\n}\n",
                  "Add stars and color -- a long message that goes on and on") == 0);
    const gen_mig *m = newest();
    CHECK(m->version == 2);
    /* The slug: at most 40 characters, no '_' at either end. */
    CHECK_STR(m->name, "add_stars_and_color_a_long_message_that");
    CHECK(has(m->up, "ALTER TABLE notes ADD COLUMN stars INTEGER NOT NULL DEFAULT 0;"));
    CHECK(has(m->up, "ALTER TABLE notes ADD COLUMN color TEXT"));
    CHECK(!strstr(m->up, "__new"));
    CHECK(has(m->down, "CREATE TABLE notes__new"));
}

static void test_required_without_default(void)
{
    CHECK(migrate(BASE_NOTE "    stars int default(0)\n    color text(20) optional\n"
                  "    owner text(20)\n}\n", "owner") == 1);
    CHECK(has(diag_text, "default("));
    CHECK(newest()->version == 2);
}

static void test_rebuilds(void)
{
    /* A non-constant default cannot be added by ALTER TABLE. */
    CHECK(migrate(BASE_NOTE "    stars int default(0)\n    color text(20) optional\n"
                  "    created_at timestamp default(now)\n}\n", "created at") == 0);
    const gen_mig *m = newest();
    CHECK(has(m->up, "CREATE TABLE notes__new"));
    CHECK(has(m->up, "INSERT INTO notes__new (id, title, stars, color) SELECT id, title, stars, "
              "color FROM notes;"));
    CHECK(has(m->up, "DROP TABLE notes;\nALTER TABLE notes__new RENAME TO notes;"));
    /* Dropping a column and changing a type and a nullability. */
    CHECK(migrate(BASE_NOTE "    stars text(10) optional\n"
                  "    created_at timestamp default(now)\n}\n", "drop color, stars text") == 0);
    m = newest();
    CHECK(has(m->up, "stars TEXT CONSTRAINT stars CHECK (length(stars) <= 10)"));
    CHECK(has(m->up, "SELECT id, title, stars, created_at FROM notes;"));
    CHECK(has(m->down, "SELECT id, title, COALESCE(stars, 0), created_at FROM notes;"));
}

static void test_index_search_tables(void)
{
    const char *v = BASE_NOTE "    stars text(10) optional\n"
                    "    created_at timestamp default(now)\n    index (stars)\n"
                    "    search (title)\n}\n"
                    "model tag {\n    table tags\n    id id\n"
                    "    note_id ref(note) on_delete(cascade)\n    label text(30)\n}\n";
    CHECK(migrate(v, "index, search and tags") == 0);
    const gen_mig *m = newest();
    CHECK(has(m->up, "CREATE INDEX idx_notes_stars ON notes (stars);"));
    CHECK(has(m->up, "CREATE VIRTUAL TABLE notes_fts USING fts5("));
    CHECK(has(m->up, "INSERT INTO notes_fts(notes_fts) VALUES ('rebuild');"));
    CHECK(has(m->up, "CREATE TRIGGER notes_fts_au AFTER UPDATE OF title ON notes"));
    CHECK(has(m->up, "CREATE TABLE tags ("));
    CHECK(has(m->up, "CREATE INDEX idx_tags_note_id ON tags (note_id);"));
    CHECK(has(m->down, "DROP INDEX idx_notes_stars;"));
    CHECK(has(m->down, "DROP TABLE notes_fts;"));
    CHECK(has(m->down, "DROP TABLE tags;"));
}

static void test_renames(void)
{
    const char *v = BASE_NOTE "    rating text(10) optional renamed_from(stars)\n"
                    "    created_at timestamp default(now)\n    index (rating)\n"
                    "    search (title)\n}\n"
                    "model label renamed_from(tags) {\n    table labels\n    id id\n"
                    "    note_id ref(note) on_delete(cascade)\n"
                    "    caption text(30) renamed_from(label)\n}\n";
    CHECK(migrate(v, "renames") == 0);
    const gen_mig *m = newest();
    CHECK(has(m->up, "ALTER TABLE tags RENAME TO labels;"));
    CHECK(has(m->up, "ALTER TABLE notes RENAME COLUMN stars TO rating;"));
    /* The renamed column keeps its data; its CHECK is still named after the
       old name, which only a rebuild can change, after the rename. */
    const char *renamed = strstr(m->up, "RENAME COLUMN stars TO rating;");
    const char *rebuilt = strstr(m->up, "CREATE TABLE notes__new");
    CHECK(renamed && rebuilt && renamed < rebuilt);
    CHECK(has(m->up, "INSERT INTO notes__new (id, title, rating, created_at) SELECT id, title, "
              "rating, created_at FROM notes;"));
    /* A column of a renamed table: after the table going up, before it down. */
    const char *table = strstr(m->up, "ALTER TABLE tags RENAME TO labels;");
    const char *column = strstr(m->up, "ALTER TABLE labels RENAME COLUMN label TO caption;");
    CHECK(table && column && table < column);
    table = strstr(m->down, "ALTER TABLE labels RENAME TO tags;");
    column = strstr(m->down, "ALTER TABLE labels RENAME COLUMN caption TO label;");
    CHECK(table && column && column < table);
    CHECK(has(m->down, "ALTER TABLE notes RENAME COLUMN rating TO stars;"));
}

static void test_drop_table(void)
{
    const char *v = BASE_NOTE "    rating text(10) optional\n"
                    "    created_at timestamp default(now)\n    index (rating)\n"
                    "    search (title)\n}\n";
    CHECK(migrate(v, "drop labels") == 0);
    const gen_mig *m = newest();
    CHECK(has(m->up, "DROP TABLE labels;"));
    CHECK(has(m->up, "the data is gone"));
    CHECK(has(m->down, "CREATE TABLE \"labels\" ("));
    CHECK(m->version == 7);
}

static void test_loader_errors(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/0009_gap.sql", dir);
    FILE *f = fopen(path, "w");
    fputs("-- +up\nSELECT 1;\n", f);
    fclose(f);
    gen_mig_set set;
    FILE *diag = fmemopen(diag_text, sizeof diag_text, "w");
    CHECK(gen_migrations_load(dir, &set, diag) > 0);
    fclose(diag);
    CHECK(has(diag_text, "0009_gap.sql:1: expected migration 0008"));
    unlink(path);
    snprintf(path, sizeof path, "%s/0008_no_down.sql", dir);
    f = fopen(path, "w");
    fputs("-- +up\nSELECT 1;\n", f);
    fclose(f);
    diag = fmemopen(diag_text, sizeof diag_text, "w");
    CHECK(gen_migrations_load(dir, &set, diag) > 0);
    fclose(diag);
    CHECK(has(diag_text, "0008_no_down.sql:1: missing '-- +down'"));
    unlink(path);
}

/* migrations.c embeds the history in version order; no directory is an
   empty history that still compiles (a sentinel element). */
static void test_embed(void)
{
    gen_outset o = {0};
    CHECK(gen_emit_migrations(dir, &o, stderr) == 0);
    CHECK(o.n == 1 && strcmp(o.files[0].name, "migrations.c") == 0);
    if (o.n == 1) {
        const char *text = gen_cstr(&o.files[0].buf);
        CHECK(has(text, "DO NOT EDIT"));
        CHECK(has(text, "#include \"db/migrate.h\""));
        const char *first = strstr(text, "{1, \"initial_schema\",");
        const char *last = strstr(text, "{7, \"drop_labels\",");
        CHECK(first && last && first < last);
        CHECK(has(text, "const int cb_migrations_count = 7;"));
    }
    gen_outset_free(&o);
    char missing[96];
    snprintf(missing, sizeof missing, "%s/none", dir);
    CHECK(gen_emit_migrations(missing, &o, stderr) == 0);
    CHECK(o.n == 1);
    if (o.n == 1) {
        const char *text = gen_cstr(&o.files[0].buf);
        CHECK(has(text, "{0, NULL, NULL, NULL}"));
        CHECK(has(text, "const int cb_migrations_count = 0;"));
    }
    gen_outset_free(&o);
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/cbgen-mig-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_initial_and_no_change();
    test_add_columns();
    test_required_without_default();
    test_rebuilds();
    test_index_search_tables();
    test_renames();
    test_drop_table();
    test_embed();
    test_loader_errors();
    gen_migrations_free(&loaded);
    if (!check_failed)
        remove_dir();
    return check_done("test_migration_new");
}
