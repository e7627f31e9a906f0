/*
 * fuzz_schema.c — libFuzzer target for chatbot-gen's front end: any bytes
 * go through the lexer, parser and checker, which must answer with
 * diagnostics, never a crash, a hang or a leak (run under ASan + UBSan).
 * Build and run: scripts/fuzz.sh [SECONDS]; seeds: tests/fuzz/corpus/.
 */
#include <stdint.h>
#include <stdio.h>

#include "parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *diag = fopen("/dev/null", "w");
    gen_schema s;
    if (gen_parse("fuzz.schema", (const char *)data, size, &s, diag) == 0)
        gen_check(&s, diag);
    gen_schema_free(&s);
    fclose(diag);
    return 0;
}
