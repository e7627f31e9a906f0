/*
 * test_dao.c — the DAO, list and search runtime against a real SQLite file,
 * through hand-written descriptors and statements in exactly the shapes
 * model.h fixes (what chatbot-gen emits): notes (every field type, FTS5),
 * tags (a parent reference and a composite unique index), members (a
 * unique email for get_by, a scoped FTS5 search) and a join table. Also
 * covers the connection pool and cb_db_rc.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "db/db.h"
#include "db/migrate.h"

/* --- the models ------------------------------------------------------------ */

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

enum { N_ID, N_TITLE, N_BODY, N_PRIORITY, N_DONE, N_KIND, N_CONTACT, N_EXTRA, N_DUE_AT,
       N_SECRET, N_CREATED_AT, N_UPDATED_AT, N_COUNT };

typedef struct tag {
    cb_row row;
    int64_t id;
    int64_t note_id;
    char *label;
} tag;

enum { T_ID, T_NOTE_ID, T_LABEL, T_COUNT };

typedef struct member {
    cb_row row;
    int64_t id;
    char *email;
    char *name;
    int64_t owner;
} member;

enum { M_ID, M_EMAIL, M_NAME, M_OWNER, M_COUNT };

enum {
    S_NOTE_INSERT, S_NOTE_GET, S_NOTE_UPDATE, S_NOTE_DELETE, S_NOTE_FIRST, S_NOTE_AFTER,
    S_NOTE_SEARCH, S_TAG_INSERT, S_TAG_GET, S_TAG_UPDATE, S_TAG_DELETE, S_TAG_FIRST,
    S_TAG_AFTER, S_MEMBER_INSERT, S_MEMBER_GET, S_MEMBER_UPDATE, S_MEMBER_DELETE,
    S_MEMBER_BY_EMAIL, S_MEMBER_SEARCH, S_LINK_ADD, S_LINK_REMOVE, S_LINK_LIST, S_COUNT
};

#define NOTE_COLS "id, title, body, priority, done, kind, contact, extra, due_at, secret, " \
                  "created_at, updated_at"
#define NOTE_QCOLS "notes.id, notes.title, notes.body, notes.priority, notes.done, " \
                   "notes.kind, notes.contact, notes.extra, notes.due_at, notes.secret, " \
                   "notes.created_at, notes.updated_at"
#define NOTE_ORDER " ORDER BY priority DESC, title ASC, id DESC LIMIT ?3"
#define TAG_COLS "id, note_id, label"
#define MEMBER_COLS "id, email, name, owner"

const int cb_stmt_count = S_COUNT;
const char *const cb_stmt_sql[] = {
    [S_NOTE_INSERT] =
        "INSERT INTO notes (title, body, priority, done, kind, contact, extra, due_at, secret, "
        "created_at, updated_at) VALUES (CASE WHEN ?1 THEN ?2 ELSE NULL END, "
        "CASE WHEN ?3 THEN ?4 ELSE '' END, CASE WHEN ?5 THEN ?6 ELSE 5 END, "
        "CASE WHEN ?7 THEN ?8 ELSE 0 END, CASE WHEN ?9 THEN ?10 ELSE 'idea' END, "
        "CASE WHEN ?11 THEN ?12 ELSE NULL END, CASE WHEN ?13 THEN ?14 ELSE NULL END, "
        "CASE WHEN ?15 THEN ?16 ELSE NULL END, CASE WHEN ?17 THEN ?18 ELSE 'hidden' END, "
        "CASE WHEN ?19 THEN ?20 ELSE NULL END, CASE WHEN ?21 THEN ?22 ELSE NULL END) "
        "RETURNING " NOTE_COLS,
    [S_NOTE_GET] = "SELECT " NOTE_COLS " FROM notes WHERE id = ?1",
    [S_NOTE_UPDATE] =
        "UPDATE notes SET title = CASE WHEN ?2 THEN ?3 ELSE title END, "
        "body = CASE WHEN ?4 THEN ?5 ELSE body END, "
        "priority = CASE WHEN ?6 THEN ?7 ELSE priority END, "
        "done = CASE WHEN ?8 THEN ?9 ELSE done END, kind = CASE WHEN ?10 THEN ?11 ELSE kind END, "
        "contact = CASE WHEN ?12 THEN ?13 ELSE contact END, "
        "extra = CASE WHEN ?14 THEN ?15 ELSE extra END, "
        "due_at = CASE WHEN ?16 THEN ?17 ELSE due_at END, "
        "secret = CASE WHEN ?18 THEN ?19 ELSE secret END, "
        "created_at = CASE WHEN ?20 THEN ?21 ELSE created_at END, "
        "updated_at = CASE WHEN ?22 THEN ?23 ELSE updated_at END "
        "WHERE id = ?1 RETURNING " NOTE_COLS,
    [S_NOTE_DELETE] = "DELETE FROM notes WHERE id = ?1",
    [S_NOTE_FIRST] = "SELECT " NOTE_COLS " FROM notes" NOTE_ORDER,
    [S_NOTE_AFTER] = "SELECT " NOTE_COLS " FROM notes WHERE (priority < ?4 OR (priority = ?4 "
                     "AND (title > ?5 OR (title = ?5 AND id < ?6))))" NOTE_ORDER,
    [S_NOTE_SEARCH] =
        "SELECT " NOTE_QCOLS ", snippet(notes_fts, -1, char(2), char(3), '…', 12), "
        "bm25(notes_fts) FROM notes_fts JOIN notes ON notes.id = notes_fts.rowid "
        "WHERE notes_fts MATCH ?1 ORDER BY bm25(notes_fts), notes.id LIMIT ?3",
    [S_TAG_INSERT] = "INSERT INTO tags (note_id, label) VALUES (CASE WHEN ?1 THEN ?2 ELSE NULL "
                     "END, CASE WHEN ?3 THEN ?4 ELSE NULL END) RETURNING " TAG_COLS,
    [S_TAG_GET] = "SELECT " TAG_COLS " FROM tags WHERE id = ?1",
    [S_TAG_UPDATE] = "UPDATE tags SET note_id = CASE WHEN ?2 THEN ?3 ELSE note_id END, "
                     "label = CASE WHEN ?4 THEN ?5 ELSE label END WHERE id = ?1 "
                     "RETURNING " TAG_COLS,
    [S_TAG_DELETE] = "DELETE FROM tags WHERE id = ?1",
    [S_TAG_FIRST] = "SELECT " TAG_COLS " FROM tags WHERE note_id = ?2 ORDER BY id ASC LIMIT ?3",
    [S_TAG_AFTER] = "SELECT " TAG_COLS " FROM tags WHERE note_id = ?2 AND (id > ?4) "
                    "ORDER BY id ASC LIMIT ?3",
    [S_MEMBER_INSERT] = "INSERT INTO members (email, name, owner) VALUES (CASE WHEN ?1 THEN ?2 "
                        "ELSE NULL END, CASE WHEN ?3 THEN ?4 ELSE NULL END, CASE WHEN ?5 THEN "
                        "?6 ELSE NULL END) RETURNING " MEMBER_COLS,
    [S_MEMBER_GET] = "SELECT " MEMBER_COLS " FROM members WHERE id = ?1",
    [S_MEMBER_UPDATE] = "UPDATE members SET email = CASE WHEN ?2 THEN ?3 ELSE email END, "
                        "name = CASE WHEN ?4 THEN ?5 ELSE name END, "
                        "owner = CASE WHEN ?6 THEN ?7 ELSE owner END WHERE id = ?1 "
                        "RETURNING " MEMBER_COLS,
    [S_MEMBER_DELETE] = "DELETE FROM members WHERE id = ?1",
    [S_MEMBER_BY_EMAIL] = "SELECT " MEMBER_COLS " FROM members WHERE email = ?1",
    [S_MEMBER_SEARCH] =
        "SELECT members.id, members.email, members.name, members.owner, "
        "snippet(members_fts, -1, char(2), char(3), '…', 12), bm25(members_fts) "
        "FROM members_fts JOIN members ON members.id = members_fts.rowid "
        "WHERE members_fts MATCH ?1 AND members.owner = ?2 "
        "ORDER BY bm25(members_fts), members.id LIMIT ?3",
    [S_LINK_ADD] = "INSERT OR IGNORE INTO note_links (a, b) VALUES (?1, ?2)",
    [S_LINK_REMOVE] = "DELETE FROM note_links WHERE a = ?1 AND b = ?2",
    [S_LINK_LIST] = "SELECT b FROM note_links WHERE a = ?1 ORDER BY b",
};

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
    .n_fields = N_COUNT,
    .sql_insert = NULL, .sql_get = NULL, .sql_update = NULL, .sql_delete = NULL,
    .stmt_insert = S_NOTE_INSERT, .stmt_get = S_NOTE_GET, .stmt_update = S_NOTE_UPDATE,
    .stmt_delete = S_NOTE_DELETE,
    .sql_search = "(see cb_stmt_sql)", .stmt_search = S_NOTE_SEARCH, .search_scope_field = -1,
};

static const cb_field tag_fields[] = {
    {"id", CB_T_ID, 0, offsetof(tag, id), 0, 0, NULL, NULL, NULL, -1},
    {"note_id", CB_T_REF, 0, offsetof(tag, note_id), 0, 0, NULL, NULL, NULL, -1},
    {"label", CB_T_TEXT, CB_F_HAS_MAX, offsetof(tag, label), 0, 30, NULL, NULL, NULL, -1},
};

static const cb_model tag_model = {
    .name = "tag", .table = "tags", .size = sizeof(tag), .fields = tag_fields,
    .n_fields = T_COUNT,
    .stmt_insert = S_TAG_INSERT, .stmt_get = S_TAG_GET, .stmt_update = S_TAG_UPDATE,
    .stmt_delete = S_TAG_DELETE, .stmt_search = -1, .search_scope_field = -1,
};

static const cb_field member_fields[] = {
    {"id", CB_T_ID, 0, offsetof(member, id), 0, 0, NULL, NULL, NULL, -1},
    {"email", CB_T_EMAIL, CB_F_UNIQUE | CB_F_HAS_MAX, offsetof(member, email), 0, 254, NULL,
     NULL, "SELECT ... WHERE email = ?1", S_MEMBER_BY_EMAIL},
    {"name", CB_T_TEXT, CB_F_HAS_MAX, offsetof(member, name), 0, 50, NULL, NULL, NULL, -1},
    {"owner", CB_T_INT, 0, offsetof(member, owner), 0, 0, NULL, NULL, NULL, -1},
};

static const cb_model member_model = {
    .name = "member", .table = "members", .size = sizeof(member), .fields = member_fields,
    .n_fields = M_COUNT,
    .stmt_insert = S_MEMBER_INSERT, .stmt_get = S_MEMBER_GET, .stmt_update = S_MEMBER_UPDATE,
    .stmt_delete = S_MEMBER_DELETE, .sql_search = "(see cb_stmt_sql)",
    .stmt_search = S_MEMBER_SEARCH, .search_scope_field = M_OWNER,
};

/* The schema, applied through the migration runner as version 1. */
static const char ddl[] =
    "CREATE TABLE notes (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),\n"
    "  body TEXT NOT NULL DEFAULT '' CHECK (length(body) <= 2000),\n"
    "  priority INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 10),\n"
    "  done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),\n"
    "  kind TEXT NOT NULL DEFAULT 'idea' CHECK (kind IN ('idea', 'task', 'bug')),\n"
    "  contact TEXT CHECK (length(contact) <= 254),\n"
    "  extra TEXT,\n"
    "  due_at INTEGER,\n"
    "  secret TEXT NOT NULL DEFAULT 'hidden' CHECK (length(secret) <= 50),\n"
    "  created_at INTEGER NOT NULL,\n"
    "  updated_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX notes_done_priority ON notes (done, priority);\n"
    "CREATE VIRTUAL TABLE notes_fts USING fts5(title, body, content='notes', "
    "content_rowid='id');\n"
    "CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes BEGIN\n"
    "  INSERT INTO notes_fts (rowid, title, body) VALUES (new.id, new.title, new.body);\n"
    "END;\n"
    "CREATE TRIGGER notes_fts_ad AFTER DELETE ON notes BEGIN\n"
    "  INSERT INTO notes_fts (notes_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body);\n"
    "END;\n"
    "CREATE TRIGGER notes_fts_au AFTER UPDATE ON notes BEGIN\n"
    "  INSERT INTO notes_fts (notes_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body);\n"
    "  INSERT INTO notes_fts (rowid, title, body) VALUES (new.id, new.title, new.body);\n"
    "END;\n"
    "CREATE TABLE tags (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  note_id INTEGER NOT NULL REFERENCES notes (id) ON DELETE CASCADE,\n"
    "  label TEXT NOT NULL CHECK (length(label) <= 30)\n"
    ");\n"
    "CREATE UNIQUE INDEX tags_note_id_label ON tags (note_id, label);\n"
    "CREATE TABLE members (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  email TEXT NOT NULL UNIQUE,\n"
    "  name TEXT NOT NULL,\n"
    "  owner INTEGER NOT NULL\n"
    ");\n"
    "CREATE VIRTUAL TABLE members_fts USING fts5(name, content='members', content_rowid='id');\n"
    "CREATE TRIGGER members_fts_ai AFTER INSERT ON members BEGIN\n"
    "  INSERT INTO members_fts (rowid, name) VALUES (new.id, new.name);\n"
    "END;\n"
    "CREATE TABLE note_links (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b));\n";

const cb_migration cb_migrations[] = {
    {1, "initial", ddl,
     "DROP TABLE note_links; DROP TABLE members_fts; DROP TABLE members; DROP TABLE tags; "
     "DROP TABLE notes_fts; DROP TABLE notes;"},
};
const int cb_migrations_count = 1;

/* --- helpers ---------------------------------------------------------------- */

static int64_t add_note(cb_db *db, const char *title, int64_t priority, const char *body)
{
    note n;
    cb_row_init(&note_model, &n);
    cb_row_set_text(&note_model, &n, N_TITLE, title);
    cb_row_set_int(&note_model, &n, N_PRIORITY, priority);
    if (body)
        cb_row_set_text(&note_model, &n, N_BODY, body);
    cb_rc rc = cb_row_insert(db, &note_model, &n);
    CHECK(rc == CB_OK);
    int64_t id = rc == CB_OK ? n.id : 0;
    cb_row_clear(&note_model, &n);
    return id;
}

static int64_t count_rows(cb_db *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->handle, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

/* --- tests ------------------------------------------------------------------- */

static void test_crud(cb_db *db)
{
    note n;
    cb_row_init(&note_model, &n);
    cb_row_set_text(&note_model, &n, N_TITLE, "first");
    int64_t before = cb_now_ms();
    CHECK(cb_row_insert(db, &note_model, &n) == CB_OK);
    CHECK(n.id > 0);
    CHECK_STR(n.title, "first");
    CHECK_STR(n.body, "");                  /* column defaults */
    CHECK(n.priority == 5 && n.done == 0);
    CHECK_STR(n.kind, "idea");
    CHECK_STR(n.secret, "hidden");
    CHECK(n.contact == NULL && (n.row.null & (UINT64_C(1) << N_CONTACT)));
    CHECK(n.row.null == ((UINT64_C(1) << N_CONTACT) | (UINT64_C(1) << N_EXTRA) |
                         (UINT64_C(1) << N_DUE_AT)));
    CHECK(n.row.set == (UINT64_C(1) << N_COUNT) - 1);
    CHECK(n.created_at >= before && n.created_at == n.updated_at);
    int64_t id = n.id, created = n.created_at;

    note got;
    cb_row_init(&note_model, &got);
    CHECK(cb_row_get(db, &note_model, id, &got) == CB_OK);
    CHECK(got.id == id && got.created_at == created);
    CHECK_STR(got.title, "first");
    cb_row_clear(&note_model, &got);
    CHECK(cb_row_get(db, &note_model, id + 1000, &got) == CB_NOTFOUND);

    /* Partial update: only priority; the other columns keep their values
       and updated_at moves. */
    usleep(3000);
    note upd;
    cb_row_init(&note_model, &upd);
    cb_row_set_int(&note_model, &upd, N_ID, id);
    cb_row_set_int(&note_model, &upd, N_PRIORITY, 9);
    CHECK(cb_row_update(db, &note_model, &upd) == CB_OK);
    CHECK(upd.priority == 9);
    CHECK_STR(upd.title, "first");
    CHECK_STR(upd.kind, "idea");
    CHECK(upd.created_at == created && upd.updated_at > created);
    cb_row_clear(&note_model, &upd);

    /* Set values, then back to NULL. */
    cb_row_set_int(&note_model, &upd, N_ID, id);
    cb_row_set_text(&note_model, &upd, N_CONTACT, "me@example.com");
    cb_row_set_text(&note_model, &upd, N_EXTRA, "[1,2]");
    cb_row_set_int(&note_model, &upd, N_DUE_AT, 1764871225123);
    CHECK(cb_row_update(db, &note_model, &upd) == CB_OK);
    CHECK_STR(upd.contact, "me@example.com");
    CHECK(upd.due_at == 1764871225123 && upd.priority == 9);
    cb_row_clear(&note_model, &upd);
    cb_row_set_int(&note_model, &upd, N_ID, id);
    cb_row_set_null(&note_model, &upd, N_CONTACT);
    CHECK(cb_row_update(db, &note_model, &upd) == CB_OK);
    CHECK(upd.contact == NULL && (upd.row.null & (UINT64_C(1) << N_CONTACT)));
    CHECK_STR(upd.extra, "[1,2]");
    cb_row_clear(&note_model, &upd);

    /* An empty update changes nothing, not even updated_at. */
    cb_row_set_int(&note_model, &upd, N_ID, id);
    CHECK(cb_row_get(db, &note_model, id, &got) == CB_OK);
    usleep(3000);
    CHECK(cb_row_update(db, &note_model, &upd) == CB_OK);
    CHECK(upd.updated_at == got.updated_at);
    cb_row_clear(&note_model, &upd);
    cb_row_clear(&note_model, &got);

    /* A CHECK constraint, a NOT NULL, and a missing row. */
    cb_row_set_int(&note_model, &upd, N_ID, id);
    cb_row_set_int(&note_model, &upd, N_PRIORITY, 11);
    CHECK(cb_row_update(db, &note_model, &upd) == CB_CONSTRAINT);
    cb_row_clear(&note_model, &upd);
    cb_row_set_int(&note_model, &upd, N_PRIORITY, 1);
    CHECK(cb_row_insert(db, &note_model, &upd) == CB_CONSTRAINT);      /* no title */
    cb_row_clear(&note_model, &upd);
    cb_row_set_int(&note_model, &upd, N_ID, id + 1000);
    cb_row_set_int(&note_model, &upd, N_PRIORITY, 1);
    CHECK(cb_row_update(db, &note_model, &upd) == CB_NOTFOUND);
    cb_row_clear(&note_model, &upd);

    /* Tags: a parent reference and a composite unique index. */
    tag t;
    cb_row_init(&tag_model, &t);
    cb_row_set_int(&tag_model, &t, T_NOTE_ID, id);
    cb_row_set_text(&tag_model, &t, T_LABEL, "red");
    CHECK(cb_row_insert(db, &tag_model, &t) == CB_OK);
    int64_t tag_id = t.id;
    cb_row_clear(&tag_model, &t);
    cb_row_set_int(&tag_model, &t, T_NOTE_ID, id);
    cb_row_set_text(&tag_model, &t, T_LABEL, "red");
    CHECK(cb_row_insert(db, &tag_model, &t) == CB_CONFLICT);
    cb_row_clear(&tag_model, &t);
    cb_row_set_int(&tag_model, &t, T_NOTE_ID, id + 1000);
    cb_row_set_text(&tag_model, &t, T_LABEL, "blue");
    CHECK(cb_row_insert(db, &tag_model, &t) == CB_CONSTRAINT);      /* foreign key */
    cb_row_clear(&tag_model, &t);
    CHECK(count_rows(db, "tags") == 1);

    /* Members: unique email and get_by. */
    member mb, key;
    cb_row_init(&member_model, &mb);
    cb_row_set_text(&member_model, &mb, M_EMAIL, "ann@example.com");
    cb_row_set_text(&member_model, &mb, M_NAME, "Ann");
    cb_row_set_int(&member_model, &mb, M_OWNER, 1);
    CHECK(cb_row_insert(db, &member_model, &mb) == CB_OK);
    int64_t ann = mb.id;
    CHECK(cb_row_insert(db, &member_model, &mb) == CB_CONFLICT);
    cb_row_clear(&member_model, &mb);
    cb_row_init(&member_model, &key);
    cb_row_set_text(&member_model, &key, M_EMAIL, "ann@example.com");
    CHECK(cb_row_get_by(db, &member_model, M_EMAIL, &key, &mb) == CB_OK);
    CHECK(mb.id == ann);
    CHECK_STR(mb.name, "Ann");
    cb_row_clear(&member_model, &mb);
    cb_row_set_text(&member_model, &key, M_EMAIL, "bob@example.com");
    CHECK(cb_row_get_by(db, &member_model, M_EMAIL, &key, &mb) == CB_NOTFOUND);
    CHECK(cb_row_get_by(db, &member_model, M_NAME, &key, &mb) == CB_ERROR);   /* not unique */
    cb_row_clear(&member_model, &key);
    /* Update into a taken email: a conflict. */
    cb_row_set_text(&member_model, &mb, M_EMAIL, "bob@example.com");
    cb_row_set_text(&member_model, &mb, M_NAME, "Bob");
    cb_row_set_int(&member_model, &mb, M_OWNER, 2);
    CHECK(cb_row_insert(db, &member_model, &mb) == CB_OK);
    cb_row_set_text(&member_model, &mb, M_EMAIL, "ann@example.com");
    CHECK(cb_row_update(db, &member_model, &mb) == CB_CONFLICT);
    cb_row_clear(&member_model, &mb);

    /* Join helpers. */
    int64_t *ids;
    size_t n_ids;
    CHECK(cb_join_add(db, S_LINK_ADD, 1, 3) == CB_OK);
    CHECK(cb_join_add(db, S_LINK_ADD, 1, 2) == CB_OK);
    CHECK(cb_join_add(db, S_LINK_ADD, 1, 2) == CB_OK);         /* OR IGNORE */
    CHECK(cb_join_list(db, S_LINK_LIST, 1, &ids, &n_ids) == CB_OK);
    CHECK(n_ids == 2 && ids[0] == 2 && ids[1] == 3);
    free(ids);
    CHECK(cb_join_remove(db, S_LINK_REMOVE, 1, 2) == CB_OK);
    CHECK(cb_join_list(db, S_LINK_LIST, 1, &ids, &n_ids) == CB_OK);
    CHECK(n_ids == 1 && ids[0] == 3);
    free(ids);

    /* Delete cascades to the tag; a second delete finds nothing. */
    CHECK(cb_row_delete(db, &note_model, id) == CB_OK);
    CHECK(cb_row_get(db, &tag_model, tag_id, &t) == CB_NOTFOUND);
    CHECK(cb_row_delete(db, &note_model, id) == CB_NOTFOUND);
    cb_row_clear(&note_model, &n);
}

static const cb_sort_key note_sort[] = {{N_PRIORITY, true}, {N_TITLE, false}, {N_ID, true}};

/* 0 when a comes before b in note_sort order. */
static int note_cmp(const note *a, const note *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    int c = strcmp(a->title, b->title);
    if (c)
        return c;
    return a->id > b->id ? -1 : a->id < b->id ? 1 : 0;
}

static void test_list(cb_db *db)
{
    CHECK(sqlite3_exec(db->handle, "DELETE FROM notes", NULL, NULL, NULL) == SQLITE_OK);
    /* 29 rows over 3 priorities and 3 titles: plenty of ties, so the id
       decides, and page edges fall inside runs of equal keys. */
    enum { N = 29 };
    static const char *const titles[] = {"beta", "alpha", "gamma"};
    int64_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = add_note(db, titles[i % 3], i % 4 == 0 ? 7 : i % 2 ? 3 : 1, NULL);

    for (int limit = 1; limit <= 6; limit++) {
        cb_list_query q = {.stmt_first = S_NOTE_FIRST, .stmt_after = S_NOTE_AFTER,
                           .sort = note_sort, .n_sort = 3, .limit = limit};
        int seen[N] = {0};
        int total = 0, pages = 0;
        note prev;
        char prev_title[16];
        bool have_prev = false, ordered = true;
        char *cursor = NULL;
        for (;;) {
            cb_rows page;
            cb_errors errs = {0};
            q.cursor = cursor;
            cb_rc rc = cb_list_page(db, &note_model, &q, &page, &errs);
            CHECK(rc == CB_OK);
            free(cursor);
            cursor = NULL;
            if (rc != CB_OK)
                break;
            pages++;
            CHECK(page.n <= (size_t)limit);
            for (size_t i = 0; i < page.n; i++) {
                note *r = (note *)page.rows + i;
                for (int k = 0; k < N; k++)
                    if (ids[k] == r->id)
                        seen[k]++;
                if (have_prev && note_cmp(&prev, r) >= 0)
                    ordered = false;
                /* prev outlives the page: keep a copy of the title */
                snprintf(prev_title, sizeof prev_title, "%s", r->title);
                prev.priority = r->priority;
                prev.id = r->id;
                prev.title = prev_title;
                have_prev = true;
                total++;
            }
            cursor = page.next_cursor ? strdup(page.next_cursor) : NULL;
            bool last = page.next_cursor == NULL;
            cb_rows_free(&page);
            if (last || pages > N + 1)
                break;
        }
        free(cursor);
        CHECK(total == N);
        CHECK(ordered);
        CHECK(pages == (N + limit - 1) / limit);
        bool once = true;
        for (int k = 0; k < N; k++)
            once = once && seen[k] == 1;
        CHECK(once);
    }

    /* Cursor tampering: every malformed cursor is CB_INVALID "cursor". */
    cb_list_query q = {.stmt_first = S_NOTE_FIRST, .stmt_after = S_NOTE_AFTER,
                       .sort = note_sort, .n_sort = 3, .limit = 5};
    cb_rows page;
    cb_errors errs = {0};
    CHECK(cb_list_page(db, &note_model, &q, &page, &errs) == CB_OK);
    CHECK(page.n == 5 && page.next_cursor != NULL);
    char good[256];
    snprintf(good, sizeof good, "%s", page.next_cursor);
    cb_rows_free(&page);
    char padded[260], cut[256], flipped[256];
    snprintf(padded, sizeof padded, "%s=", good);
    snprintf(cut, sizeof cut, "%.*s", (int)strlen(good) - 1, good);
    snprintf(flipped, sizeof flipped, "%s", good);
    flipped[0] = flipped[0] == 'W' ? '.' : 'W';
    const char *const bad[] = {
        "",
        "!!!!",
        "a",                                    /* impossible length */
        "bm90IGpzb24",                          /* not json */
        "WzEsImEiXQ",                           /* [1,"a"]: too short */
        "WzEsImEiLDEsMV0",                      /* [1,"a",1,1]: too long */
        "WyI3IiwiYSIsMV0",                      /* ["7","a",1]: string for an int */
        "WzcsMSwxXQ",                           /* [7,1,1]: int for a string */
        "WzcsImEiLDEuNV0",                      /* [7,"a",1.5]: real for the id */
        "WzcsbnVsbCwxXQ",                       /* [7,null,1]: null for a required key */
        "eyJhIjoxfQ",                           /* {"a":1} */
        "WzcsImEiLDkyMjMzNzIwMzY4NTQ3NzU4MDhd", /* an id beyond int64 */
        "WzcsImEiLDFdeA",                       /* [7,"a",1]x: trailing garbage */
        "WzcsImEiLDFd+",                        /* standard-alphabet character */
        "WzcsImEiLDFf",                         /* dangling bits in the last character */
        padded, cut, flipped,
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        q.cursor = bad[i];
        cb_rc rc = cb_list_page(db, &note_model, &q, &page, &errs);
        if (rc != CB_INVALID)
            fprintf(stderr, "cursor accepted: \"%s\"\n", bad[i]);
        CHECK(rc == CB_INVALID);
        const char *msg = errs.fields ? json_string_value(json_object_get(errs.fields, "cursor"))
                                      : NULL;
        CHECK_STR(msg, "invalid cursor");
        cb_errors_clear(&errs);
        cb_rows_free(&page);
    }
    /* A well-formed cursor we did not write is merely a starting point. */
    q.cursor = "WzcsImEiLDFd";                  /* [7,"a",1] */
    CHECK(cb_list_page(db, &note_model, &q, &page, &errs) == CB_OK);
    CHECK(page.n > 0 && ((note *)page.rows)[0].priority <= 7);
    cb_rows_free(&page);
    q.cursor = good;
    CHECK(cb_list_page(db, &note_model, &q, &page, &errs) == CB_OK);
    cb_rows_free(&page);

    /* Parent scoping: tags of one note only, paged by id. */
    int64_t n1 = add_note(db, "with tags", 1, NULL), n2 = add_note(db, "other", 1, NULL);
    for (int i = 0; i < 5; i++) {
        tag t;
        cb_row_init(&tag_model, &t);
        cb_row_set_int(&tag_model, &t, T_NOTE_ID, i < 3 ? n1 : n2);
        char label[8];
        snprintf(label, sizeof label, "t%d", i);
        cb_row_set_text(&tag_model, &t, T_LABEL, label);
        CHECK(cb_row_insert(db, &tag_model, &t) == CB_OK);
        cb_row_clear(&tag_model, &t);
    }
    static const cb_sort_key tag_sort[] = {{T_ID, false}};
    cb_list_query tq = {.stmt_first = S_TAG_FIRST, .stmt_after = S_TAG_AFTER,
                        .sort = tag_sort, .n_sort = 1, .has_parent = true, .parent = n1,
                        .limit = 2};
    CHECK(cb_list_page(db, &tag_model, &tq, &page, &errs) == CB_OK);
    CHECK(page.n == 2 && page.next_cursor);
    char *tc = strdup(page.next_cursor);
    cb_rows_free(&page);
    tq.cursor = tc;
    CHECK(cb_list_page(db, &tag_model, &tq, &page, &errs) == CB_OK);
    CHECK(page.n == 1 && page.next_cursor == NULL);
    CHECK(page.n == 1 && strcmp(((tag *)page.rows)[0].label, "t2") == 0);
    cb_rows_free(&page);
    free(tc);
}

static void test_search(cb_db *db)
{
    CHECK(sqlite3_exec(db->handle, "DELETE FROM notes", NULL, NULL, NULL) == SQLITE_OK);
    add_note(db, "Shopping list", 1, "milk, eggs and \xF0\x9F\x98\x80 quick bread");
    add_note(db, "Quick start", 1, "how to begin");
    add_note(db, "Nothing here", 1, "unrelated text");

    cb_search_result res;
    CHECK(cb_row_search(db, &note_model, "quick", -1, 10, &res) == CB_OK);
    CHECK(res.rows.n == 2);
    bool found_bread = false;
    for (size_t i = 0; i < res.rows.n; i++) {
        const note *r = (const note *)res.rows.rows + i;
        cb_search_hit *h = &res.hits[i];
        CHECK(strchr(h->snippet, '\x02') == NULL && strchr(h->snippet, '\x03') == NULL);
        CHECK(h->n_highlights == 1);
        if (strcmp(r->title, "Shopping list") == 0) {
            found_bread = true;
            /* "milk, eggs and 😀 quick bread": the emoji is one character */
            CHECK_STR(h->snippet, "milk, eggs and \xF0\x9F\x98\x80 quick bread");
            CHECK(h->n_highlights == 1 && h->highlights[0][0] == 17 &&
                  h->highlights[0][1] == 22);
        } else {
            CHECK_STR(h->snippet, "Quick start");
            CHECK(h->n_highlights == 1 && h->highlights[0][0] == 0 && h->highlights[0][1] == 5);
        }
    }
    CHECK(found_bread);
    cb_search_result_free(&res);

    /* Terms are ANDed. */
    CHECK(cb_row_search(db, &note_model, "quick  bread", -1, 10, &res) == CB_OK);
    CHECK(res.rows.n == 1);
    cb_search_result_free(&res);

    /* No input is a syntax error. */
    static const char *const hostile[] = {
        "\"", "\"\"", "a\"b", "\"quick", "quick\"", "NEAR(quick bread)", "NEAR", "*", "quick*",
        "(", ")", "((quick", "quick)", "AND", "OR", "NOT", "quick AND OR bread", "NOT quick",
        "title:quick", "title:", ":", "{title body}: quick", "-quick", "+", "^quick", "'",
        "\\", "quick OR", "a:b:c", "\"\"\"\"", "NEAR(", "x NEAR/2 y", "* * *", "[]", "💥",
        "rowid:1", "notes_fts:quick", NULL,
    };
    for (int i = 0; hostile[i]; i++) {
        cb_rc rc = cb_row_search(db, &note_model, hostile[i], -1, 10, &res);
        if (rc != CB_OK)
            fprintf(stderr, "search failed for %s\n", hostile[i]);
        CHECK(rc == CB_OK);
        cb_search_result_free(&res);
    }
    CHECK(cb_row_search(db, &note_model, "title:quick", -1, 10, &res) == CB_OK);
    CHECK(res.rows.n == 0);         /* a word, not a column filter */
    cb_search_result_free(&res);
    CHECK(cb_row_search(db, &note_model, "", -1, 10, &res) == CB_INVALID);
    CHECK(cb_row_search(db, &note_model, " \t\n ", -1, 10, &res) == CB_INVALID);
    CHECK(cb_row_search(db, &note_model, "bad \xFF", -1, 10, &res) == CB_INVALID);

    /* Scoped search: owners see only their own rows. */
    CHECK(cb_row_search(db, &member_model, "ann", 1, 10, &res) == CB_OK);
    CHECK(res.rows.n == 1 && ((member *)res.rows.rows)[0].owner == 1);
    cb_search_result_free(&res);
    CHECK(cb_row_search(db, &member_model, "ann", 2, 10, &res) == CB_OK);
    CHECK(res.rows.n == 0);
    cb_search_result_free(&res);
    CHECK(cb_row_search(db, &member_model, "ann", -1, 10, &res) == CB_OK);
    CHECK(res.rows.n == 0);
    cb_search_result_free(&res);
}

static void test_rc(cb_db *db)
{
    CHECK(cb_db_rc(db, SQLITE_OK) == CB_OK);
    CHECK(cb_db_rc(db, SQLITE_DONE) == CB_OK);
    CHECK(cb_db_rc(db, SQLITE_CONSTRAINT_UNIQUE) == CB_CONFLICT);
    CHECK(cb_db_rc(db, SQLITE_CONSTRAINT_PRIMARYKEY) == CB_CONFLICT);
    CHECK(cb_db_rc(db, SQLITE_CONSTRAINT_FOREIGNKEY) == CB_CONSTRAINT);
    CHECK(cb_db_rc(db, SQLITE_CONSTRAINT_CHECK) == CB_CONSTRAINT);
    CHECK(cb_db_rc(db, SQLITE_CONSTRAINT_NOTNULL) == CB_CONSTRAINT);
    CHECK(cb_db_rc(db, SQLITE_BUSY) == CB_BUSY);
    CHECK(cb_db_rc(db, SQLITE_BUSY_SNAPSHOT) == CB_BUSY);
    CHECK(cb_db_rc(db, SQLITE_LOCKED) == CB_BUSY);
    CHECK(cb_db_rc(db, SQLITE_TOOBIG) == CB_TOOBIG);
    CHECK(cb_db_rc(db, SQLITE_IOERR) == CB_ERROR);
    CHECK(cb_db_stmt(db, -1) == NULL && cb_db_stmt(db, S_COUNT) == NULL);

    /* Transactions: a rolled-back insert leaves nothing. */
    int64_t before = count_rows(db, "notes");
    CHECK(cb_db_begin(db) == CB_OK);
    add_note(db, "rolled back", 1, NULL);
    cb_db_rollback(db);
    CHECK(count_rows(db, "notes") == before);
    CHECK(cb_db_begin(db) == CB_OK);
    add_note(db, "kept", 1, NULL);
    CHECK(cb_db_commit(db) == CB_OK);
    CHECK(count_rows(db, "notes") == before + 1);
    cb_db_rollback(db);     /* harmless outside a transaction */

    /* Pragmas of every connection. */
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(db->handle, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW &&
          strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v2(db->handle, "PRAGMA foreign_keys", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1);
    sqlite3_finalize(st);
}

static void test_pool(const char *path)
{
    CHECK(cb_pool_init(path, 2) == 0);
    CHECK(cb_pool_init(path, 2) == -1);            /* once */
    cb_db *a = cb_pool_get(100), *b = cb_pool_get(100);
    CHECK(a && b && a != b);
    int64_t t0 = cb_now_ms();
    CHECK(cb_pool_get(50) == NULL);                 /* exhausted: waits, then gives up */
    CHECK(cb_now_ms() - t0 >= 45);
    /* A connection handed back mid-transaction comes back clean. */
    CHECK(cb_db_begin(a) == CB_OK);
    cb_pool_put(a);
    cb_db *c = cb_pool_get(0);
    CHECK(c == a && sqlite3_get_autocommit(c->handle));
    note n;
    cb_row_init(&note_model, &n);
    CHECK(cb_row_get(c, &note_model, 0, &n) == CB_NOTFOUND);
    cb_pool_put(b);
    cb_pool_put(c);
    cb_pool_shutdown();
    CHECK(cb_pool_get(10) == NULL);
    CHECK(cb_pool_init(path, 1) == 0);              /* usable again after shutdown */
    cb_db *d = cb_pool_get(-1);
    CHECK(d != NULL);
    cb_pool_put(d);
    cb_pool_shutdown();
}

int main(void)
{
    char path[] = "/tmp/cb-test-dao-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 2;
    close(fd);
    cb_db *db = cb_db_open(path);
    CHECK(db != NULL);
    if (!db)
        return check_done("test_dao");
    cb_migration_list h = cb_migrations_embedded();
    CHECK(cb_migrate_upgrade(db, &h, -1, NULL) == CB_OK);
    test_crud(db);
    test_list(db);
    test_search(db);
    test_rc(db);
    cb_db_close(db);
    test_pool(path);
    char side[64];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return check_done("test_dao");
}
