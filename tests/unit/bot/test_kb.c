/*
 * test_kb.c — the knowledge base (src/bot/kb*.c): splitting Markdown and
 * plain text into passages (headings, nesting, long sections, code fences,
 * UTF-8 boundaries, line ends), the safe FTS5 query built from a question,
 * and, on a real SQLite file migrated by the embedded migrations: adding
 * documents (validation, one transaction), BM25 search with hostile
 * queries, and seeding the user guide once per database.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/kb.h"
#include "check.h"
#include "db/db.h"
#include "db/migrate.h"
#include "db/validate.h"
#include "util/buf.h"
#include "util/mem.h"

static size_t split(const char *text, cb_kb_passage **p)
{
    return cb_kb_split(text, strlen(text), p);
}

static size_t nchars(const char *s)
{
    return cb_utf8_count(s, strlen(s));
}

/* Every passage within the limit, valid UTF-8, non-empty and trimmed. */
static void check_passages(const cb_kb_passage *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(p[i].body);
        CHECK(len > 0);
        CHECK(cb_utf8_valid(p[i].body, len));
        CHECK(nchars(p[i].body) <= CB_KB_PASSAGE_CHARS);
        CHECK(p[i].body[len - 1] != '\n' && p[i].body[len - 1] != ' ');
        CHECK(nchars(p[i].heading) <= CB_KB_HEADING_CHARS);
        CHECK(cb_utf8_valid(p[i].heading, strlen(p[i].heading)));
    }
}

static void test_headings(void)
{
    cb_kb_passage *p;
    size_t n = split("# Guide\n\nIntro text.\n\n## Install ##\n\nRun it.\n\n### On Debian\n"
                     "apt-get install x\n\n## Use\nCall it.\n\n#hashtag is text\n"
                     "####### seven is text\n", &p);
    check_passages(p, n);
    CHECK(n == 4);
    if (n == 4) {
        CHECK_STR(p[0].heading, "Guide");
        CHECK_STR(p[0].body, "Intro text.");
        CHECK_STR(p[1].heading, "Guide › Install");
        CHECK_STR(p[1].body, "Run it.");
        CHECK_STR(p[2].heading, "Guide › Install › On Debian");
        CHECK_STR(p[2].body, "apt-get install x");
        CHECK_STR(p[3].heading, "Guide › Use");
        CHECK_STR(p[3].body, "Call it.\n\n#hashtag is text\n####### seven is text");
    }
    cb_kb_passages_free(p, n);

    /* Text before the first heading; a skipped level; headings alone are dropped. */
    n = split("Preface.\n# A\n### Deep\nx\n## B\n## C\ny\n", &p);
    CHECK(n == 3);
    if (n == 3) {
        CHECK_STR(p[0].heading, "");
        CHECK_STR(p[0].body, "Preface.");
        CHECK_STR(p[1].heading, "A › Deep");
        CHECK_STR(p[2].heading, "A › C");
        CHECK_STR(p[2].body, "y");
    }
    cb_kb_passages_free(p, n);

    /* A heading path longer than the column is cut with an ellipsis. */
    cb_buf b = {0};
    for (int level = 1; level <= 6; level++) {
        for (int i = 0; i < level; i++)
            cb_buf_putc(&b, '#');
        cb_buf_putc(&b, ' ');
        for (int i = 0; i < 60; i++)
            cb_buf_puts(&b, "é");
        cb_buf_putc(&b, '\n');
    }
    cb_buf_puts(&b, "body\n");
    n = split(b.data, &p);
    CHECK(n == 1);
    if (n == 1) {
        CHECK(nchars(p[0].heading) == CB_KB_HEADING_CHARS);
        CHECK(strstr(p[0].heading, "…") != NULL);
    }
    check_passages(p, n);
    cb_kb_passages_free(p, n);
    cb_buf_free(&b);
}

static void test_fences(void)
{
    cb_kb_passage *p;
    /* A heading and blank lines inside a fence belong to the code. */
    size_t n = split("# Code\n\n```sh\n# not a heading\n\necho hi\n```\n\nAfter.\n", &p);
    CHECK(n == 1);
    if (n == 1) {
        CHECK_STR(p[0].heading, "Code");
        CHECK_STR(p[0].body, "```sh\n# not a heading\n\necho hi\n```\n\nAfter.");
    }
    cb_kb_passages_free(p, n);

    /* A fence that does not fit after a long paragraph starts a new passage whole. */
    cb_buf b = {0};
    for (int i = 0; i < 120; i++)
        cb_buf_puts(&b, "word word ");       /* 1,200 characters */
    cb_buf_puts(&b, "\n\n~~~\n");
    for (int i = 0; i < 20; i++)
        cb_buf_puts(&b, "line of code number x\n\n");   /* 23 chars each */
    cb_buf_puts(&b, "~~~\n");
    n = split(b.data, &p);
    check_passages(p, n);
    CHECK(n == 2);
    if (n == 2) {
        CHECK(strncmp(p[1].body, "~~~\n", 4) == 0);
        CHECK(strcmp(p[1].body + strlen(p[1].body) - 4, "\n~~~") == 0);
    }
    cb_kb_passages_free(p, n);
    cb_buf_free(&b);

    /* A fence longer than a passage is cut at lines, each piece fenced again. */
    cb_buf_puts(&b, "````c\n");
    for (int i = 0; i < 200; i++)
        cb_buf_puts(&b, "int variable_number = 42; /* a line of C */\n");
    cb_buf_puts(&b, "````\n");
    n = split(b.data, &p);
    check_passages(p, n);
    CHECK(n >= 6);
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(strncmp(p[i].body, "````c\n", 6) == 0);
        size_t len = strlen(p[i].body);
        CHECK(len > 5 && strcmp(p[i].body + len - 5, "\n````") == 0);
        for (const char *s = p[i].body; (s = strstr(s, "= 42;")); s++)
            lines++;
    }
    CHECK(lines == 200);                    /* no line lost, none cut */
    cb_kb_passages_free(p, n);
    cb_buf_free(&b);

    /* An unclosed fence runs to the end and is still cut with fences. */
    cb_buf_puts(&b, "```\n");
    for (int i = 0; i < 100; i++)
        cb_buf_puts(&b, "echo this is an unclosed code block\n");
    n = split(b.data, &p);
    check_passages(p, n);
    CHECK(n >= 2);
    for (size_t i = 0; i < n; i++)
        CHECK(strncmp(p[i].body, "```\n", 4) == 0);
    cb_kb_passages_free(p, n);
    cb_buf_free(&b);
}

static void test_long_sections(void)
{
    cb_kb_passage *p;
    cb_buf b = {0};
    cb_buf_puts(&b, "## Long\n\n");
    for (int i = 0; i < 12; i++) {
        for (int w = 0; w < 60; w++)
            cb_buf_puts(&b, "lorem ");
        cb_buf_puts(&b, "end.\n\n");       /* paragraphs of 364 characters */
    }
    size_t n = split(b.data, &p);
    check_passages(p, n);
    CHECK(n == 3);                          /* 4 paragraphs (1,462) fit, 5 do not */
    size_t ends = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK_STR(p[i].heading, "Long");
        const char *body = p[i].body;
        CHECK(strcmp(body + strlen(body) - 4, "end.") == 0);   /* whole paragraphs */
        for (const char *s = body; (s = strstr(s, "end.")); s++)
            ends++;
    }
    CHECK(ends == 12);
    cb_kb_passages_free(p, n);
    cb_buf_free(&b);

    /* One paragraph of 4,000 two-byte characters and no space: cut at
       character boundaries, nothing lost. */
    for (int i = 0; i < 4000; i++)
        cb_buf_puts(&b, i % 3 ? "é" : "ж");
    n = split(b.data, &p);
    check_passages(p, n);
    CHECK(n == 3);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += nchars(p[i].body);
    CHECK(total == 4000);
    cb_kb_passages_free(p, n);
    cb_buf_free(&b);

    /* Four-byte characters (emoji) and CJK without spaces. */
    for (int i = 0; i < 1000; i++)
        cb_buf_puts(&b, "😀日本");
    n = split(b.data, &p);
    check_passages(p, n);
    CHECK(n == 2);
    cb_kb_passages_free(p, n);
    cb_buf_free(&b);

    /* A long paragraph of sentences is cut after a sentence. */
    for (int i = 0; i < 100; i++)
        cb_buf_puts(&b, "This is sentence number x. ");
    n = split(b.data, &p);
    check_passages(p, n);
    CHECK(n == 2);
    if (n == 2)
        CHECK(p[0].body[strlen(p[0].body) - 1] == '.');
    cb_kb_passages_free(p, n);
    cb_buf_free(&b);
}

static void test_plain_text(void)
{
    cb_kb_passage *p;
    size_t n = split("First paragraph\nstill first.\r\n\r\nSecond.\r\rThird.\n", &p);
    CHECK(n == 1);
    if (n == 1) {
        CHECK_STR(p[0].heading, "");
        CHECK_STR(p[0].body, "First paragraph\nstill first.\n\nSecond.\n\nThird.");
    }
    cb_kb_passages_free(p, n);
    CHECK(split("", &p) == 0 && p == NULL);
    CHECK(split(" \n\t\n  \n", &p) == 0);
    CHECK(split("# Only\n## Headings\n", &p) == 0);
    n = split("    indented code\n", &p);
    CHECK(n == 1 && strcmp(p[0].body, "    indented code") == 0);
    cb_kb_passages_free(p, n);
}

static void check_query(const char *question, const char *expected)
{
    char *q = cb_kb_fts_query(question);
    if (expected)
        CHECK_STR(q, expected);
    else
        CHECK(q == NULL);
    free(q);
}

static void test_query(void)
{
    check_query("how do I change my password?", "\"chang\"* AND \"password\"*");
    check_query("Changing passwords", "\"chang\"* AND \"password\"*");
    check_query("chatting with tokens", "\"chat\"* AND \"token\"*");
    check_query("what is the API url for ollama", "\"api\"* AND \"url\"* AND \"ollama\"*");
    check_query("port 11434", "\"port\"* AND \"11434\"");
    check_query("reset forgotten admin password quickly",
                "(\"forgotten\"* AND \"admin\"* AND \"password\"* AND \"quickly\"*) OR "
                "(\"reset\"* AND \"admin\"* AND \"password\"* AND \"quickly\"*) OR "
                "(\"reset\"* AND \"forgotten\"* AND \"password\"* AND \"quickly\"*) OR "
                "(\"reset\"* AND \"forgotten\"* AND \"admin\"* AND \"quickly\"*) OR "
                "(\"reset\"* AND \"forgotten\"* AND \"admin\"* AND \"password\"*)");
    check_query("how do I?", NULL);
    check_query("", NULL);
    check_query("\"\"\" *** ^^^ ((( )))", NULL);
    check_query("NEAR(a b) body:secret", "\"near\"* AND \"body\"* AND \"secret\"*");
    check_query("\"password\" OR \"token", "\"password\"* AND \"token\"*");
    check_query("contraseña ¿cómo?", "\"contraseña\" AND \"¿cómo\"");
    check_query("\xff\xfe invalid", NULL);
    check_query("password PASSWORD Password", "\"password\"*");
    /* 100 KB of words: the term cap holds. */
    cb_buf b = {0};
    for (int i = 0; i < 20000; i++) {
        char w[16];
        snprintf(w, sizeof w, "w%d ", i);
        cb_buf_puts(&b, w);
    }
    char *q = cb_kb_fts_query(b.data);
    int terms = 0;
    for (const char *s = q; s && (s = strstr(s, " OR ")); s++)
        terms++;
    CHECK(q && terms + 1 == CB_KB_MAX_TERMS);
    free(q);
    cb_buf_free(&b);
}

/* --- on a database -------------------------------------------------------- */

static int count(cb_db *db, const char *sql)
{
    sqlite3_stmt *st;
    int n = -1;
    if (sqlite3_prepare_v2(db->handle, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static bool has_error(cb_errors *e, const char *field)
{
    bool yes = e->fields && json_object_get(e->fields, field);
    cb_errors_clear(e);
    return yes;
}

static void test_add(cb_db *db)
{
    cb_errors e = {0};
    int64_t id = 0;
    CHECK(cb_kb_add_document(db, "  Recipes  ", "# Bread\n\nFlour, water, salt.\n\n"
                             "## Baking\n\nBake the bread at 230 degrees.\n", 0, &id, &e) == CB_OK);
    CHECK(id > 0 && e.fields == NULL);
    CHECK(count(db, "SELECT count(*) FROM documents WHERE title = 'Recipes' AND passages = 2 "
                    "AND created_by IS NULL") == 1);
    CHECK(count(db, "SELECT count(*) FROM passages") == 2);

    /* Refusals write nothing. */
    int docs = count(db, "SELECT count(*) FROM documents");
    CHECK(cb_kb_add_document(db, "   ", "text", 0, &id, &e) == CB_INVALID);
    CHECK(has_error(&e, "title"));
    char long_title[202];
    memset(long_title, 'x', 201);
    long_title[201] = '\0';
    CHECK(cb_kb_add_document(db, long_title, "text", 0, &id, &e) == CB_INVALID);
    CHECK(has_error(&e, "title"));
    CHECK(cb_kb_add_document(db, "Line\nbreak", "text", 0, &id, &e) == CB_INVALID);
    CHECK(has_error(&e, "title"));
    CHECK(cb_kb_add_document(db, "T", "", 0, &id, &e) == CB_INVALID);
    CHECK(has_error(&e, "content"));
    CHECK(cb_kb_add_document(db, "T", " \n\n ", 0, &id, &e) == CB_INVALID);
    CHECK(has_error(&e, "content"));
    CHECK(cb_kb_add_document(db, "T", "# Only a heading", 0, &id, &e) == CB_INVALID);
    CHECK(has_error(&e, "content"));
    CHECK(cb_kb_add_document(db, "T", "bell \a here", 0, &id, &e) == CB_INVALID);
    CHECK(has_error(&e, "content"));
    CHECK(cb_kb_add_document(db, "T", "C1 \xc2\x85 control", 0, &id, &e) == CB_INVALID);
    CHECK(has_error(&e, "content"));
    CHECK(cb_kb_add_document(db, "T", "bad \xc3\x28 utf8", 0, &id, &e) == CB_INVALID);
    CHECK(has_error(&e, "content"));
    char *big = cb_xmalloc(1000002);
    memset(big, 'a', 1000001);
    big[1000001] = '\0';
    CHECK(cb_kb_add_document(db, "T", big, 0, &id, &e) == CB_INVALID);
    CHECK(has_error(&e, "content"));
    free(big);
    CHECK(cb_kb_add_document(db, NULL, NULL, 0, &id, &e) == CB_INVALID);
    CHECK(e.fields && json_object_size(e.fields) == 2);
    cb_errors_clear(&e);
    CHECK(count(db, "SELECT count(*) FROM documents") == docs);

    /* A failure at the third passage leaves neither the document nor the
       first two passages. */
    sqlite3_exec(db->handle, "CREATE TEMP TRIGGER fail_third BEFORE INSERT ON passages "
                             "WHEN new.position = 2 BEGIN SELECT RAISE(ABORT, 'boom'); END",
                 NULL, NULL, NULL);
    int passages = count(db, "SELECT count(*) FROM passages");
    cb_rc rc = cb_kb_add_document(db, "Three", "# a\nx\n# b\ny\n# c\nz\n", 0, &id, &e);
    CHECK(rc != CB_OK);
    CHECK(count(db, "SELECT count(*) FROM documents") == docs);
    CHECK(count(db, "SELECT count(*) FROM passages") == passages);
    CHECK(sqlite3_get_autocommit(db->handle));      /* no transaction left open */
    sqlite3_exec(db->handle, "DROP TRIGGER fail_third", NULL, NULL, NULL);
    cb_errors_clear(&e);
    CHECK(cb_kb_add_document(db, "Three", "# a\nx\n# b\ny\n# c\nz\n", 0, &id, &e) == CB_OK);

    /* Deleting the document removes its passages from the index too. */
    CHECK(cb_db_exec_id(db, "DELETE FROM documents WHERE id = ?1", id) == 0);
    cb_kb_hit *hits;
    size_t n;
    CHECK(cb_kb_search(db, "z", 5, &hits, &n) == CB_OK);
    CHECK(count(db, "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH '\"c\"'") == 0);
    cb_kb_hits_free(hits, n);
}

static void test_search(cb_db *db)
{
    cb_kb_hit *hits;
    size_t n;
    /* Up to three terms must all match: only the baking passage is about
       baking bread, though both mention bread. */
    CHECK(cb_kb_search(db, "How long do I bake bread?", 3, &hits, &n) == CB_OK);
    CHECK(n == 1);
    if (n == 1) {
        CHECK_STR(hits[0].heading, "Bread › Baking");
        CHECK_STR(hits[0].title, "Recipes");
        CHECK(strstr(hits[0].body, "230 degrees") != NULL);
        CHECK(hits[0].document_id > 0 && hits[0].passage_id > 0 && hits[0].score > 0);
    }
    cb_kb_hits_free(hits, n);
    CHECK(cb_kb_search(db, "bread", 3, &hits, &n) == CB_OK);
    CHECK(n == 2 && hits[0].score >= hits[1].score && hits[1].score > 0);
    cb_kb_hits_free(hits, n);
    CHECK(cb_kb_search(db, "reverse bread python", 3, &hits, &n) == CB_OK && n == 0);
    cb_kb_hits_free(hits, n);

    static const char *const hostile[] = {
        "\"", "\"\"", "bread\"", "NEAR(bread salt, 2)", "bread*", "^bread", "(bread OR",
        "body:bread", "heading : bread", "- bread", "bread AND NOT salt", "{heading}: x",
        "😀😀😀", "🍞 bread", "\xff\xfe", "'; DROP TABLE documents; --", "a", "",
        "\\", "%_%", "bread\nsalt\tflour",
    };
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        CHECK(cb_kb_search(db, hostile[i], 3, &hits, &n) == CB_OK);
        cb_kb_hits_free(hits, n);
    }
    CHECK(cb_kb_search(db, NULL, 3, &hits, &n) == CB_OK && n == 0);
    CHECK(cb_kb_search(db, "bread", 0, &hits, &n) == CB_OK && n == 1);
    cb_kb_hits_free(hits, n);
    CHECK(cb_kb_search(db, "weather in Paris", 3, &hits, &n) == CB_OK && n == 0);

    cb_buf b = {0};
    while (b.len < 100 * 1024)
        cb_buf_puts(&b, "\"x\" NEAR( bread* ) OR ^salt body:flour 😀 ");
    CHECK(cb_kb_search(db, b.data, 3, &hits, &n) == CB_OK);   /* not about bread: any n */
    cb_kb_hits_free(hits, n);
    b.len = 0;
    while (b.len < 100 * 1024)
        cb_buf_puts(&b, "(bread* \"salt\" ^flour) ");
    CHECK(cb_kb_search(db, b.data, 3, &hits, &n) == CB_OK && n > 0);
    cb_kb_hits_free(hits, n);
    cb_buf_free(&b);
    CHECK(count(db, "SELECT count(*) FROM documents WHERE title = 'Recipes'") == 1);
}

static void test_seed(cb_db *db)
{
    int docs = count(db, "SELECT count(*) FROM documents");
    CHECK(cb_kb_guide_count >= 5);
    CHECK(cb_kb_seed(db) == (int)cb_kb_guide_count);
    CHECK(count(db, "SELECT count(*) FROM documents") == docs + (int)cb_kb_guide_count);
    CHECK(count(db, "PRAGMA user_version") == 1);
    CHECK(count(db, "SELECT count(*) FROM documents WHERE title = 'Account and password'") == 1);
    CHECK(cb_kb_seed(db) == 0);                             /* once per database */

    /* The guide answers its own questions. */
    cb_kb_hit *hits;
    size_t n;
    CHECK(cb_kb_search(db, "how do I change my password?", 3, &hits, &n) == CB_OK && n > 0);
    if (n > 0)
        CHECK(strstr(hits[0].heading, "Changing your password") != NULL);
    cb_kb_hits_free(hits, n);
    CHECK(cb_kb_search(db, "Which URL for Ollama?", 3, &hits, &n) == CB_OK && n > 0);
    if (n > 0)
        CHECK(strstr(hits[0].body, "11434") != NULL);
    cb_kb_hits_free(hits, n);

    /* A deleted guide document stays deleted; clearing the marker brings
       back only what is missing. */
    sqlite3_exec(db->handle, "DELETE FROM documents WHERE title = 'API tokens'", NULL, NULL, NULL);
    CHECK(cb_kb_seed(db) == 0);
    CHECK(count(db, "SELECT count(*) FROM documents WHERE title = 'API tokens'") == 0);
    sqlite3_exec(db->handle, "PRAGMA user_version = 0", NULL, NULL, NULL);
    CHECK(cb_kb_seed(db) == 1);
    CHECK(count(db, "SELECT count(*) FROM documents WHERE title = 'API tokens'") == 1);
    CHECK(count(db, "SELECT count(*) FROM documents WHERE title = 'Getting started'") == 1);
}

int main(void)
{
    test_headings();
    test_fences();
    test_long_sections();
    test_plain_text();
    test_query();

    char path[] = "/tmp/cb-test-kb-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 2;
    close(fd);
    cb_db *db = cb_db_open(path);
    CHECK(db != NULL);
    if (!db)
        return check_done("test_kb");
    cb_migration_list h = cb_migrations_embedded();
    CHECK(cb_migrate_upgrade(db, &h, -1, NULL) == CB_OK);
    test_add(db);
    test_search(db);
    test_seed(db);
    cb_db_close(db);
    char side[64];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return check_done("test_kb");
}
