/*
 * time.c — the clock and RFC 3339 timestamps.
 *
 * Timestamps are int64 milliseconds since the Unix epoch, UTC, everywhere
 * below the JSON edge. Conversion uses civil-calendar arithmetic rather than
 * timegm()/mktime() so that it depends on neither the TZ variable nor the
 * platform's time_t range, and so that parsing can reject 2026-02-30
 * instead of normalising it to March.
 */
#include "db/model.h"

#include <stdio.h>
#include <time.h>

int64_t cb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
   days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse: a day count to year, month, day. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Years 0000..9999 are what RFC 3339 can write; instants outside them are
   clamped to its ends. */
#define CB_TIME_MIN_MS (-62167219200000LL)      /* 0000-01-01T00:00:00.000Z */
#define CB_TIME_MAX_MS (253402300799999LL)      /* 9999-12-31T23:59:59.999Z */

void cb_format_time(int64_t ms, char out[32])
{
    if (ms < CB_TIME_MIN_MS)
        ms = CB_TIME_MIN_MS;
    if (ms > CB_TIME_MAX_MS)
        ms = CB_TIME_MAX_MS;
    int64_t days = floor_div(ms, 86400000);
    unsigned rem = (unsigned)(ms - days * 86400000);       /* 0 .. 86399999 */
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    unsigned secs = rem / 1000;
    /* The modulos only tell the compiler the widths. */
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)y % 10000u,
             (unsigned)m % 100u, (unsigned)d % 100u, secs / 3600 % 100u, secs / 60 % 60,
             secs % 60, rem % 1000);
}

/* Reads exactly n decimal digits. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char a, char b)
{
    if (**p != a && **p != b)
        return false;
    (*p)++;
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* "Z" or "+hh:mm" / "-hh:mm" as signed minutes east of UTC. */
static bool parse_offset(const char **p, int *minutes)
{
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        *minutes = 0;
        return true;
    }
    char sign = **p;
    if (sign != '+' && sign != '-')
        return false;
    (*p)++;
    int hh, mm;
    if (!digits(p, 2, &hh) || !expect(p, ':', ':') || !digits(p, 2, &mm) || hh > 23 || mm > 59)
        return false;
    *minutes = (sign == '-' ? -1 : 1) * (hh * 60 + mm);
    return true;
}

bool cb_parse_time(const char *s, int64_t *ms)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, frac = 0, off;
    if (!digits(&p, 4, &y) || !expect(&p, '-', '-') || !digits(&p, 2, &mo) ||
        !expect(&p, '-', '-') || !digits(&p, 2, &d) || !expect(&p, 'T', 't') ||
        !digits(&p, 2, &h) || !expect(&p, ':', ':') || !digits(&p, 2, &mi) ||
        !expect(&p, ':', ':') || !digits(&p, 2, &sec))
        return false;
    if (*p == '.') {
        p++;
        int n = 0;
        /* Keep milliseconds; finer digits are read and dropped. */
        for (; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                frac = frac * 10 + (*p - '0');
        if (n == 0)
            return false;
        for (; n < 3; n++)
            frac *= 10;
    }
    if (!parse_offset(&p, &off) || *p != '\0')
        return false;
    /* A leap second (:60) has no representation in Unix time: refused. */
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
        return false;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off * 60;
    *ms = secs * 1000 + frac;
    return true;
}
