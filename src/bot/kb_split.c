/*
 * kb_split.c — cutting a document into passages (see kb.h).
 *
 * One pass over the lines. Outside fenced code, an ATX heading (`#`…
 * `######`) ends the current passage and sets the heading path; blank
 * lines end a block (a paragraph, a list, a table); a fence opens a block
 * that only its closing fence ends, blank lines included. Blocks are packed
 * into the current passage while it stays within CB_KB_PASSAGE_CHARS; a
 * block too big for any passage is cut at line, then sentence, then word
 * boundaries (a fenced block at line boundaries, each piece fenced again),
 * never inside a UTF-8 character. This file knows nothing of the database.
 */
#include "bot/kb.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "db/validate.h"
#include "util/buf.h"
#include "util/mem.h"

#define LEVELS 6

typedef struct splitter {
    cb_kb_passage *out;
    size_t n, cap;
    char *levels[LEVELS];       /* heading text per level, NULL when unset */
    char *heading;              /* the current path, for the passages to come */
    cb_buf block;               /* the block being read */
    bool in_fence;
    char fence_char;
    size_t fence_len;
    cb_buf chunk;               /* the passage being packed */
    size_t chunk_chars;
} splitter;

static size_t chars(const char *s, size_t len)
{
    return cb_utf8_count(s, len);
}

/* Byte length of the first `n` characters of s (len bytes). */
static size_t prefix_bytes(const char *s, size_t len, size_t n)
{
    size_t i = 0;
    while (i < len && n > 0) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        n--;
    }
    return i;
}

static bool is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

/* Emits `body` (len bytes) as a passage: leading blank lines and trailing
   whitespace go (leading indentation stays: it may be code); empty is
   dropped. */
static void emit(splitter *sp, const char *body, size_t len)
{
    for (;;) {
        const char *nl = memchr(body, '\n', len);
        if (!nl || !is_blank(body, (size_t)(nl - body)))
            break;
        len -= (size_t)(nl - body) + 1;
        body = nl + 1;
    }
    while (len > 0 && (body[len - 1] == ' ' || body[len - 1] == '\t' || body[len - 1] == '\n'))
        len--;
    if (len == 0 || is_blank(body, len))
        return;
    if (sp->n == sp->cap) {
        sp->cap = sp->cap ? sp->cap * 2 : 16;
        sp->out = cb_xrealloc(sp->out, sp->cap * sizeof *sp->out);
    }
    sp->out[sp->n].heading = cb_xstrdup(sp->heading ? sp->heading : "");
    sp->out[sp->n].body = cb_xstrndup(body, len);
    sp->n++;
}

static void flush_chunk(splitter *sp)
{
    if (sp->chunk.len)
        emit(sp, sp->chunk.data, sp->chunk.len);
    sp->chunk.len = 0;
    sp->chunk_chars = 0;
}

/* Where to cut s so the first piece has at most `limit` characters: the
   last line break, else sentence end, else space in the second half of
   that window, else exactly at `limit` characters. */
static size_t cut_point(const char *s, size_t len, size_t limit)
{
    size_t max = prefix_bytes(s, len, limit), half = prefix_bytes(s, len, limit / 2);
    static const char *const breaks[] = {"\n", ". ", " "};
    for (size_t b = 0; b < sizeof breaks / sizeof *breaks; b++) {
        size_t bl = strlen(breaks[b]);
        for (size_t i = max; i >= half + bl && i >= bl; i--)
            if (memcmp(s + i - bl, breaks[b], bl) == 0)
                return i;
    }
    return max;
}

/* Adds a block that fits in one passage to the current one, or starts a
   new passage with it. */
static void pack_small(splitter *sp, const char *s, size_t len, size_t n)
{
    size_t sep = sp->chunk.len ? 2 : 0;
    if (sp->chunk_chars + sep + n > CB_KB_PASSAGE_CHARS) {
        flush_chunk(sp);
        sep = 0;
    }
    if (sep)
        cb_buf_put(&sp->chunk, "\n\n", 2);
    cb_buf_put(&sp->chunk, s, len);
    sp->chunk_chars += sep + n;
}

/* A text block longer than a passage: whole pieces become passages, the
   last piece stays open for the blocks that follow. */
static void pack_text(splitter *sp, const char *s, size_t len, size_t limit)
{
    while (len > 0) {
        size_t n = chars(s, len);
        if (n <= limit) {
            pack_small(sp, s, len, n);
            return;
        }
        size_t cut = cut_point(s, len, limit);
        flush_chunk(sp);
        emit(sp, s, cut);
        s += cut;
        len -= cut;
        while (len > 0 && (*s == ' ' || *s == '\n')) {
            s++;
            len--;
        }
    }
}

/* A fenced block longer than a passage: cut between lines, each piece
   wrapped in the block's own opening and closing fence lines. */
static void pack_fence(splitter *sp, const char *s, size_t len)
{
    const char *nl = memchr(s, '\n', len);
    const char *last = s + len;
    while (last > s && last[-1] != '\n')
        last--;
    size_t open_len = (size_t)(nl - s);
    char close[16];
    size_t close_len;
    bool closed = sp->in_fence == false && last > nl;   /* a closing line was read */
    if (closed) {
        close_len = (size_t)(s + len - last);
    } else {
        close_len = sp->fence_len < sizeof close - 1 ? sp->fence_len : sizeof close - 1;
        last = s + len;
    }
    if (!closed)
        memset(close, sp->fence_char, close_len);
    const char *close_text = closed ? last : close;
    size_t frame = chars(s, open_len) + chars(close_text, close_len) + 2;
    if (frame + 100 > CB_KB_PASSAGE_CHARS) {       /* a huge info string: treat as text */
        pack_text(sp, s, len, CB_KB_PASSAGE_CHARS);
        return;
    }
    size_t budget = CB_KB_PASSAGE_CHARS - frame;
    const char *p = nl + 1, *end = closed ? last : s + len;
    cb_buf piece = {0};
    while (p < end) {
        size_t plen = (size_t)(end - p);
        size_t take = chars(p, plen) <= budget ? plen : cut_point(p, plen, budget);
        cb_buf_put(&piece, s, open_len + 1);
        cb_buf_put(&piece, p, take);
        if (piece.data[piece.len - 1] != '\n')
            cb_buf_putc(&piece, '\n');
        cb_buf_put(&piece, close_text, close_len);
        flush_chunk(sp);
        pack_small(sp, piece.data, piece.len, chars(piece.data, piece.len));
        piece.len = 0;
        p += take;
    }
    cb_buf_free(&piece);
}

static void end_block(splitter *sp, bool fenced)
{
    const char *s = sp->block.data;
    size_t len = sp->block.len;
    if (len && s[len - 1] == '\n')
        len--;
    if (len > 0 && !is_blank(s, len)) {
        size_t n = chars(s, len);
        if (n <= CB_KB_PASSAGE_CHARS)
            pack_small(sp, s, len, n);
        else if (fenced && memchr(s, '\n', len))
            pack_fence(sp, s, len);
        else
            pack_text(sp, s, len, CB_KB_PASSAGE_CHARS);
    }
    sp->block.len = 0;
}

/* A fence line: up to 3 spaces, then 3+ backticks or tildes. */
static bool fence_open(const char *line, size_t len, char *ch, size_t *count)
{
    size_t i = 0;
    while (i < len && i < 3 && line[i] == ' ')
        i++;
    if (i >= len || (line[i] != '`' && line[i] != '~'))
        return false;
    size_t j = i;
    while (j < len && line[j] == line[i])
        j++;
    if (j - i < 3)
        return false;
    *ch = line[i];
    *count = j - i;
    return true;
}

static bool fence_closes(const splitter *sp, const char *line, size_t len)
{
    char ch;
    size_t count;
    if (!fence_open(line, len, &ch, &count) || ch != sp->fence_char || count < sp->fence_len)
        return false;
    const char *rest = memchr(line, ch, len);
    size_t off = (size_t)(rest - line) + count;
    return is_blank(line + off, len - off);
}

/* An ATX heading: its level (1..6) and text span, or 0. */
static int heading_level(const char *line, size_t len, const char **text, size_t *tlen)
{
    size_t i = 0;
    while (i < len && i < 3 && line[i] == ' ')
        i++;
    size_t h = i;
    while (i < len && line[i] == '#')
        i++;
    int level = (int)(i - h);
    if (level < 1 || level > LEVELS || (i < len && line[i] != ' ' && line[i] != '\t'))
        return 0;
    const char *t = line + i;
    size_t n = len - i;
    cb_trim_span(&t, &n);
    size_t k = n;                       /* an optional closing run of #s */
    while (k > 0 && t[k - 1] == '#')
        k--;
    if (k == 0 || t[k - 1] == ' ' || t[k - 1] == '\t')
        n = k;
    cb_trim_span(&t, &n);
    *text = t;
    *tlen = n;
    return level;
}

static void set_heading(splitter *sp, int level, const char *text, size_t tlen)
{
    free(sp->levels[level - 1]);
    sp->levels[level - 1] = tlen ? cb_xstrndup(text, tlen) : NULL;
    for (int l = level; l < LEVELS; l++) {
        free(sp->levels[l]);
        sp->levels[l] = NULL;
    }
    cb_buf path = {0};
    for (int l = 0; l < LEVELS; l++) {
        if (!sp->levels[l])
            continue;
        if (path.len)
            cb_buf_puts(&path, " › ");
        cb_buf_puts(&path, sp->levels[l]);
    }
    size_t n = path.len ? chars(path.data, path.len) : 0;
    if (n > CB_KB_HEADING_CHARS) {
        path.len = prefix_bytes(path.data, path.len, CB_KB_HEADING_CHARS - 1);
        cb_buf_puts(&path, "…");
    }
    free(sp->heading);
    sp->heading = path.len ? cb_buf_take(&path, NULL) : NULL;
    cb_buf_free(&path);
}

static void read_line(splitter *sp, const char *line, size_t len)
{
    if (sp->in_fence) {
        cb_buf_put(&sp->block, line, len);
        cb_buf_putc(&sp->block, '\n');
        if (fence_closes(sp, line, len)) {
            sp->in_fence = false;
            end_block(sp, true);
        }
        return;
    }
    const char *text;
    size_t tlen;
    int level;
    if (fence_open(line, len, &sp->fence_char, &sp->fence_len)) {
        end_block(sp, false);
        sp->in_fence = true;
        cb_buf_put(&sp->block, line, len);
        cb_buf_putc(&sp->block, '\n');
    } else if ((level = heading_level(line, len, &text, &tlen)) > 0) {
        end_block(sp, false);
        flush_chunk(sp);
        set_heading(sp, level, text, tlen);
    } else if (is_blank(line, len)) {
        end_block(sp, false);
    } else {
        cb_buf_put(&sp->block, line, len);
        cb_buf_putc(&sp->block, '\n');
    }
}

size_t cb_kb_split(const char *text, size_t len, cb_kb_passage **out)
{
    splitter sp = {0};
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '\n' && text[j] != '\r')
            j++;
        read_line(&sp, text + i, j - i);
        if (j < len && text[j] == '\r' && j + 1 < len && text[j + 1] == '\n')
            j++;
        i = j + 1;
    }
    bool fenced = sp.in_fence;          /* an unclosed fence runs to the end */
    end_block(&sp, fenced);
    sp.in_fence = false;
    flush_chunk(&sp);
    for (int l = 0; l < LEVELS; l++)
        free(sp.levels[l]);
    free(sp.heading);
    cb_buf_free(&sp.block);
    cb_buf_free(&sp.chunk);
    *out = sp.out;
    return sp.n;
}

void cb_kb_passages_free(cb_kb_passage *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].heading);
        free(p[i].body);
    }
    free(p);
}
