/* id.c — ULID-style comment ids from the clock and getrandom(2).
 *
 * The random part comes from a per-thread pool filled 4 KB at a time: one
 * getrandom call per ~400 ids instead of a system call on every submission
 * (it was one of the six per request). The bytes are the kernel's CSPRNG
 * output either way, each used once. */
#include "raqib/id.h"

#include <string.h>
#include <time.h>
#include <sys/random.h>

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define POOL_SIZE 4096

static _Thread_local unsigned char pool[POOL_SIZE];
static _Thread_local size_t pool_left;

/* Take n (<= POOL_SIZE) fresh random bytes from the calling thread's pool. */
static int random_bytes(unsigned char *out, size_t n)
{
    if (pool_left < n) {
        if (getrandom(pool, sizeof pool, 0) != (ssize_t)sizeof pool)
            return -1;
        pool_left = sizeof pool;
    }
    unsigned char *src = pool + (sizeof pool - pool_left);
    memcpy(out, src, n);
    memset(src, 0, n);          /* never handed out twice */
    pool_left -= n;
    return 0;
}

int id_new(char out[ID_LEN + 1], long long now_ms)
{
    unsigned char rnd[10];
    if (random_bytes(rnd, sizeof rnd) < 0)
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

long long id_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int id_site_valid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}
