/*
 * dao.c — the generic data access functions every generated DAO wraps:
 * insert, get, get_by, update, delete and the join-table helpers.
 *
 * Each runs one cached statement (the SQL shapes are fixed in model.h),
 * binds every parameter from the row, maps the result through cb_db_rc and
 * resets the statement before returning, so no read transaction outlives
 * the call. Rows are refreshed from RETURNING, so the caller sees exactly
 * what was stored (defaults and timestamps included).
 */
#include "db/model.h"

#include <stdio.h>
#include <stdlib.h>

#include "db/db.h"
#include "util/mem.h"

static bool is_text_type(cb_type t)
{
    return t == CB_T_TEXT || t == CB_T_EMAIL || t == CB_T_ENUM || t == CB_T_JSON;
}

static bool has_bit(uint64_t mask, unsigned i)
{
    return (mask & (UINT64_C(1) << i)) != 0;
}

/* Binds field i of row at idx; an unset or NULL field binds NULL. */
static int bind_field(sqlite3_stmt *st, int idx, const cb_model *m, const void *row, unsigned i)
{
    const cb_row *hdr = row;
    if (!has_bit(hdr->set, i) || has_bit(hdr->null, i))
        return sqlite3_bind_null(st, idx);
    if (is_text_type(m->fields[i].type)) {
        const char *s = cb_row_text(m, row, i);
        return s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT)
                 : sqlite3_bind_null(st, idx);
    }
    return sqlite3_bind_int64(st, idx, cb_row_int(m, row, i));
}

void cb_row_from_stmt(const cb_model *m, sqlite3_stmt *stmt, int first_col, void *out)
{
    for (unsigned i = 0; i < m->n_fields; i++) {
        int col = first_col + (int)i;
        if (sqlite3_column_type(stmt, col) == SQLITE_NULL) {
            cb_row_set_null(m, out, i);
        } else if (is_text_type(m->fields[i].type)) {
            const unsigned char *s = sqlite3_column_text(stmt, col);
            if (!s) {
                /* The column is not NULL, so this is SQLite out of memory. */
                fprintf(stderr, "chatbot: out of memory reading a column\n");
                abort();
            }
            char *copy = cb_xstrndup((const char *)s, (size_t)sqlite3_column_bytes(stmt, col));
            cb_row_set_text(m, out, i, copy);
            free(copy);
        } else {
            cb_row_set_int(m, out, i, sqlite3_column_int64(stmt, col));
        }
    }
}

/* Steps a statement expected to return one row into `row` (or none:
   CB_NOTFOUND), then runs it to completion and resets it. */
static cb_rc step_one(cb_db *db, sqlite3_stmt *st, const cb_model *m, void *row)
{
    int rc = sqlite3_step(st);
    cb_rc out;
    if (rc == SQLITE_ROW) {
        cb_row_from_stmt(m, st, 0, row);
        /* Finish the statement: a RETURNING write completes, a SELECT
           releases its read lock. */
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        out = cb_db_rc(db, rc);
    } else if (rc == SQLITE_DONE) {
        out = CB_NOTFOUND;
    } else {
        out = cb_db_rc(db, rc);
    }
    sqlite3_reset(st);
    return out;
}

/* Runs a statement that returns no row. */
static cb_rc step_done(cb_db *db, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    cb_rc out = cb_db_rc(db, rc);
    sqlite3_reset(st);
    return out;
}

static void fill_now(const cb_model *m, void *row, unsigned flags, bool only_unset)
{
    cb_row *hdr = row;
    int64_t now = cb_now_ms();
    for (unsigned i = 1; i < m->n_fields; i++)
        if ((m->fields[i].flags & flags) && !(only_unset && has_bit(hdr->set, i)))
            cb_row_set_int(m, row, i, now);
}

cb_rc cb_row_insert(cb_db *db, const cb_model *m, void *row)
{
    sqlite3_stmt *st = cb_db_stmt(db, m->stmt_insert);
    if (!st)
        return CB_ERROR;
    fill_now(m, row, CB_F_DEFAULT_NOW | CB_F_UPDATE_NOW, true);
    const cb_row *hdr = row;
    for (unsigned k = 1; k < m->n_fields; k++) {
        sqlite3_bind_int(st, (int)(2 * k - 1), has_bit(hdr->set, k));
        bind_field(st, (int)(2 * k), m, row, k);
    }
    return step_one(db, st, m, row);
}

cb_rc cb_row_get(cb_db *db, const cb_model *m, int64_t id, void *out)
{
    sqlite3_stmt *st = cb_db_stmt(db, m->stmt_get);
    if (!st)
        return CB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    return step_one(db, st, m, out);
}

cb_rc cb_row_get_by(cb_db *db, const cb_model *m, unsigned field, const void *key_row, void *out)
{
    if (field >= m->n_fields || m->fields[field].stmt_get_by < 0)
        return CB_ERROR;
    sqlite3_stmt *st = cb_db_stmt(db, m->fields[field].stmt_get_by);
    if (!st)
        return CB_ERROR;
    bind_field(st, 1, m, key_row, field);
    return step_one(db, st, m, out);
}

cb_rc cb_row_update(cb_db *db, const cb_model *m, void *row)
{
    sqlite3_stmt *st = cb_db_stmt(db, m->stmt_update);
    if (!st)
        return CB_ERROR;
    const cb_row *hdr = row;
    /* A change to any real field touches the on_update(now) timestamps;
       an empty update changes nothing, not even them. */
    bool changes = false;
    for (unsigned i = 1; i < m->n_fields; i++)
        if (has_bit(hdr->set, i) && !(m->fields[i].flags & CB_F_UPDATE_NOW))
            changes = true;
    if (changes)
        fill_now(m, row, CB_F_UPDATE_NOW, false);
    sqlite3_bind_int64(st, 1, cb_row_id(row));
    for (unsigned k = 1; k < m->n_fields; k++) {
        sqlite3_bind_int(st, (int)(2 * k), has_bit(hdr->set, k));
        bind_field(st, (int)(2 * k + 1), m, row, k);
    }
    return step_one(db, st, m, row);
}

cb_rc cb_row_delete(cb_db *db, const cb_model *m, int64_t id)
{
    sqlite3_stmt *st = cb_db_stmt(db, m->stmt_delete);
    if (!st)
        return CB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    cb_rc rc = step_done(db, st);
    if (rc == CB_OK && sqlite3_changes(db->handle) == 0)
        return CB_NOTFOUND;
    return rc;
}

/* --- many-to-many join tables ---------------------------------------------- */

static cb_rc join_pair(cb_db *db, int stmt, int64_t a, int64_t b)
{
    sqlite3_stmt *st = cb_db_stmt(db, stmt);
    if (!st)
        return CB_ERROR;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    return step_done(db, st);
}

cb_rc cb_join_add(cb_db *db, int stmt, int64_t a, int64_t b)
{
    return join_pair(db, stmt, a, b);
}

cb_rc cb_join_remove(cb_db *db, int stmt, int64_t a, int64_t b)
{
    return join_pair(db, stmt, a, b);
}

cb_rc cb_join_list(cb_db *db, int stmt, int64_t a, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = cb_db_stmt(db, stmt);
    if (!st)
        return CB_ERROR;
    sqlite3_bind_int64(st, 1, a);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = cb_xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    cb_rc res = cb_db_rc(db, rc);
    sqlite3_reset(st);
    if (res != CB_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return res;
}
