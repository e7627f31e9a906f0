/*
 * note_fixture.h — a hand-written descriptor of tests/fixtures/notes.schema's
 * `note` (every field type), shaped exactly as chatbot-gen emits it, for the
 * runtime's unit tests that link no generated code. Include it once per
 * test program: it also defines the generated symbols the runtime expects.
 */
#ifndef CB_TEST_NOTE_FIXTURE_H
#define CB_TEST_NOTE_FIXTURE_H

#include <stddef.h>

#include "db/db.h"
#include "db/migrate.h"

const int cb_stmt_count = 0;
const char *const cb_stmt_sql[] = {NULL};
const cb_migration cb_migrations[] = {{0, NULL, NULL, NULL}};
const int cb_migrations_count = 0;

typedef struct note {
    cb_row row;
    int64_t id;
    char *title;
    char *body;
    int64_t priority;
    int64_t done;
    char *kind;
    char *contact;
    char *extra;
    int64_t due_at;
    char *secret;
    int64_t created_at;
    int64_t updated_at;
} note;

enum { F_ID, F_TITLE, F_BODY, F_PRIORITY, F_DONE, F_KIND, F_CONTACT, F_EXTRA, F_DUE_AT,
       F_SECRET, F_CREATED_AT, F_UPDATED_AT, F_COUNT };

static const char *const kind_values[] = {"idea", "task", "bug", NULL};

static const cb_field note_fields[] = {
    {"id", CB_T_ID, 0, offsetof(note, id), 0, 0, NULL, NULL, NULL, -1},
    {"title", CB_T_TEXT, CB_F_HAS_MIN | CB_F_HAS_MAX, offsetof(note, title), 1, 100, NULL,
     NULL, NULL, -1},
    {"body", CB_T_TEXT, CB_F_DEFAULT | CB_F_HAS_MAX, offsetof(note, body), 0, 2000, NULL,
     "\"\"", NULL, -1},
    {"priority", CB_T_INT, CB_F_DEFAULT | CB_F_HAS_MIN | CB_F_HAS_MAX, offsetof(note, priority),
     0, 10, NULL, "5", NULL, -1},
    {"done", CB_T_BOOL, CB_F_DEFAULT, offsetof(note, done), 0, 0, NULL, "false", NULL, -1},
    {"kind", CB_T_ENUM, CB_F_DEFAULT, offsetof(note, kind), 0, 0, kind_values, "\"idea\"", NULL,
     -1},
    {"contact", CB_T_EMAIL, CB_F_OPTIONAL | CB_F_HAS_MAX, offsetof(note, contact), 0, 254, NULL,
     NULL, NULL, -1},
    {"extra", CB_T_JSON, CB_F_OPTIONAL, offsetof(note, extra), 0, 0, NULL, NULL, NULL, -1},
    {"due_at", CB_T_TIMESTAMP, CB_F_OPTIONAL, offsetof(note, due_at), 0, 0, NULL, NULL, NULL, -1},
    {"secret", CB_T_TEXT, CB_F_DEFAULT | CB_F_HIDDEN | CB_F_HAS_MAX, offsetof(note, secret), 0,
     50, NULL, "\"hidden\"", NULL, -1},
    {"created_at", CB_T_TIMESTAMP, CB_F_DEFAULT_NOW, offsetof(note, created_at), 0, 0, NULL,
     NULL, NULL, -1},
    {"updated_at", CB_T_TIMESTAMP, CB_F_DEFAULT_NOW | CB_F_UPDATE_NOW,
     offsetof(note, updated_at), 0, 0, NULL, NULL, NULL, -1},
};

static const cb_model note_model = {
    .name = "note", .table = "notes", .size = sizeof(note), .fields = note_fields,
    .n_fields = F_COUNT,
    .stmt_insert = -1, .stmt_get = -1, .stmt_update = -1, .stmt_delete = -1,
    .stmt_search = -1, .search_scope_field = -1,
};

#endif
