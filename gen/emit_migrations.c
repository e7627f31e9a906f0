/*
 * emit_migrations.c — embeds the migration history in the binary
 * (generated/migrations.c, the cb_migrations[] of src/db/migrate.h), so a
 * deployed `chatbot` carries every step from an empty database to now.
 */
#include "emit.h"
#include "migrations.h"
#include "names.h"

int gen_emit_migrations(const char *migrations_dir, gen_outset *o, FILE *diag)
{
    gen_mig_set set;
    int errors = gen_migrations_load(migrations_dir, &set, diag);
    if (errors)
        return errors;
    gen_buf *b = gen_out_file(o, "migrations.c");
    gen_buf_header(b, "c", migrations_dir);
    gen_buf_put(b, "/*\n * migrations.c — every file of the migrations directory, in version\n"
                   " * order, applied by src/db/migrate.c.\n */\n#include \"db/migrate.h\"\n\n"
                   "const cb_migration cb_migrations[] = {\n");
    for (size_t i = 0; i < set.n; i++) {
        gen_mig *m = &set.items[i];
        gen_buf_printf(b, "    {%d, \"", m->version);
        gen_buf_c_escape(b, m->name);
        gen_buf_put(b, "\",\n     ");
        gen_put_c_literal(b, m->up, "     ", 0);
        gen_buf_put(b, ",\n     ");
        gen_put_c_literal(b, m->down, "     ", 0);
        gen_buf_put(b, "},\n");
    }
    gen_buf_printf(b, "    {0, NULL, NULL, NULL}\n};\n\nconst int cb_migrations_count = %zu;\n",
                   set.n);
    gen_migrations_free(&set);
    return 0;
}
