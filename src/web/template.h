/*
 * template.h — the pages' HTML templates (templates/NAME.html) and the tiny
 * substitution they use. There is no logic in a template: no loops, no
 * conditions, no raw output. Placeholders are
 *
 *   {{name}}         a variable the page handler passes, HTML-escaped
 *   {{icon:NAME}}    <svg class="icon"><use href="/static/icons.svg?v=V#NAME"/></svg>
 *   {{asset:PATH}}   /static/PATH?v=V, V naming the file's current version
 *   {{> NAME}}       templates/NAME.html inserted here (one level deep)
 *
 * so a value that came from a user can only ever reach the page escaped.
 * Anything else between {{ and }} is a template error: it renders as
 * nothing and is logged, the page still answers.
 */
#ifndef CB_WEB_TEMPLATE_H
#define CB_WEB_TEMPLATE_H

#include <stddef.h>

typedef struct cb_tpl_var {
    const char *name;
    const char *value;          /* NULL renders as "" */
} cb_tpl_var;

/* Renders templates/<name>.html (the folder beside the static folder) with
   vars. Returns the malloc'd page and its length in *len, or NULL when the
   template cannot be read (logged). */
char *cb_template_render(const char *name, const cb_tpl_var *vars, size_t n_vars, size_t *len);

/* The version tag of static/<path> for cache busting: changes whenever the
   file does (size and modification time, as the static ETag). "0" when the
   file is missing. Writes at most size bytes into out. */
void cb_asset_version(const char *path, char *out, size_t size);

#endif
