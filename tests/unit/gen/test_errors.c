/*
 * test_errors.c — every schema mistake in tests/gen/errors/ is reported at
 * the right place with the right words. Each file's first line is
 * `# expect: LINE:COL: text`; the test parses and checks the file and looks
 * for "<file>:LINE:COL: text" in the diagnostics.
 */
#include <dirent.h>
#include <stdlib.h>

#include "check.h"
#include "parser.h"

static const char *dir = "tests/gen/errors";

static void run_case(const char *name)
{
    char path[512], expect[1100] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[512];
    if (fgets(line, sizeof line, f) && strncmp(line, "# expect: ", 10) == 0) {
        line[strcspn(line, "\n")] = '\0';
        snprintf(expect, sizeof expect, "%s:%s", path, line + 10);
    }
    fclose(f);
    CHECK(expect[0] != '\0');

    char *diag_text = NULL;
    size_t diag_len = 0;
    FILE *diag = open_memstream(&diag_text, &diag_len);
    gen_schema s;
    int errors = gen_parse_file(path, &s, diag);
    if (!errors)
        errors = gen_check(&s, diag);
    gen_schema_free(&s);
    fclose(diag);
    CHECK(errors > 0);
    if (!strstr(diag_text, expect)) {
        check_failed++;
        fprintf(stderr, "%s: expected \"%s\"\n  got: %s", name, expect, diag_text);
    } else {
        check_passed++;
    }
    free(diag_text);
}

int main(void)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int cases = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > 7 && strcmp(e->d_name + n - 7, ".schema") == 0) {
            run_case(e->d_name);
            cases++;
        }
    }
    if (d)
        closedir(d);
    CHECK(cases >= 30);
    return check_done("test_errors");
}
