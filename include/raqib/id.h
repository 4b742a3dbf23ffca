/* id.h — comment ids (time-ordered, unique without coordination) and the
 * other names a request carries: site names, and the clock ids are made on.
 *
 * ULID form (26 Crockford base32 characters: 48 bits of milliseconds, 80
 * random bits), so ids sort by arrival and any worker can make one. Pure. */
#ifndef RAQIB_ID_H
#define RAQIB_ID_H

#include <stddef.h>

#define ID_LEN 26

/* Write a new id and its NUL into out (ID_LEN + 1 bytes). Returns 0 or -1
 * when the system has no randomness to give. */
int id_new(char out[ID_LEN + 1], long long now_ms);

/* 1 when s looks like an id this module made. */
int id_valid(const char *s);

/* The wall clock in unix milliseconds, as ids and the stored times use it. */
long long id_clock_ms(void);

/* 1 when s names a site (a tenant): 1 to 64 of a-z, 0-9, _ and -, as every
 * key of the site carries it. */
int id_site_valid(const char *s);

#endif
