/* id.c — ULID-style comment ids from the clock and getrandom(2). */
#include "raqib/id.h"

#include <string.h>
#include <sys/random.h>

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int id_new(char out[ID_LEN + 1], long long now_ms)
{
    unsigned char rnd[10];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return -1;
    unsigned long long t = (unsigned long long)now_ms;
    for (int i = 9; i >= 0; i--) {      /* 10 chars × 5 bits = 50 ≥ 48 bits of time */
        out[i] = alphabet[t & 31];
        t >>= 5;
    }
    /* 80 random bits as 16 characters. */
    unsigned __int128 r = 0;
    for (int i = 0; i < 10; i++)
        r = (r << 8) | rnd[i];
    for (int i = 25; i >= 10; i--) {
        out[i] = alphabet[(unsigned)(r & 31)];
        r >>= 5;
    }
    out[ID_LEN] = '\0';
    return 0;
}

int id_valid(const char *s)
{
    if (strlen(s) != ID_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!strchr(alphabet, *p))
            return 0;
    return 1;
}
