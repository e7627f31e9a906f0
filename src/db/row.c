/*
 * row.c — generic access to a generated model struct through its descriptor.
 *
 * A row is the generated struct: a cb_row header (set / null bit masks)
 * followed by the fields at the offsets the descriptor records. Integer-like
 * types (id, int, bool, ref, timestamp) are int64_t; text-like types (text,
 * email, enum, json) are a malloc'd char * the row owns. Every other file of
 * the runtime reaches field storage through these functions only.
 */
#include "db/model.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

static bool is_text_type(cb_type t)
{
    return t == CB_T_TEXT || t == CB_T_EMAIL || t == CB_T_ENUM || t == CB_T_JSON;
}

static void *field_ptr(const cb_model *m, const void *row, unsigned field)
{
    assert(field < m->n_fields);
    return (char *)row + m->fields[field].offset;
}

void cb_row_init(const cb_model *m, void *row)
{
    memset(row, 0, m->size);
}

void cb_row_clear(const cb_model *m, void *row)
{
    for (unsigned i = 0; i < m->n_fields; i++)
        if (is_text_type(m->fields[i].type))
            free(*(char **)field_ptr(m, row, i));
    memset(row, 0, m->size);
}

int64_t cb_row_id(const void *row)
{
    /* fields[0] is the id and directly follows the header in every
       generated struct. */
    const struct {
        cb_row hdr;
        int64_t id;
    } *r = row;
    return r->id;
}

int64_t cb_row_int(const cb_model *m, const void *row, unsigned field)
{
    assert(!is_text_type(m->fields[field].type));
    return *(const int64_t *)field_ptr(m, row, field);
}

const char *cb_row_text(const cb_model *m, const void *row, unsigned field)
{
    assert(is_text_type(m->fields[field].type));
    return *(char *const *)field_ptr(m, row, field);
}

void cb_row_set_int(const cb_model *m, void *row, unsigned field, int64_t v)
{
    assert(!is_text_type(m->fields[field].type));
    cb_row *hdr = row;
    *(int64_t *)field_ptr(m, row, field) = v;
    hdr->set |= UINT64_C(1) << field;
    hdr->null &= ~(UINT64_C(1) << field);
}

void cb_row_set_text(const cb_model *m, void *row, unsigned field, const char *v)
{
    assert(is_text_type(m->fields[field].type));
    cb_row *hdr = row;
    char **slot = field_ptr(m, row, field);
    char *copy = cb_xstrdup(v);     /* before free: v may be the old value */
    free(*slot);
    *slot = copy;
    hdr->set |= UINT64_C(1) << field;
    hdr->null &= ~(UINT64_C(1) << field);
}

void cb_row_set_null(const cb_model *m, void *row, unsigned field)
{
    cb_row *hdr = row;
    if (is_text_type(m->fields[field].type)) {
        char **slot = field_ptr(m, row, field);
        free(*slot);
        *slot = NULL;
    } else {
        *(int64_t *)field_ptr(m, row, field) = 0;
    }
    hdr->set |= UINT64_C(1) << field;
    hdr->null |= UINT64_C(1) << field;
}

void cb_rows_free(cb_rows *r)
{
    if (r->rows && r->model)
        for (size_t i = 0; i < r->n; i++)
            cb_row_clear(r->model, (char *)r->rows + i * r->model->size);
    free(r->rows);
    free(r->next_cursor);
    r->rows = NULL;
    r->n = 0;
    r->next_cursor = NULL;
}
