/* email.h — strict e-mail address syntax, as mail servers accept it.
 *
 * RFC 5321/5322 addr-spec in dot-atom form only: local part of atext
 * characters, at most 64 bytes, no leading, trailing or doubled dots; domain
 * of at least two labels of letters, digits and inner hyphens (IDN in UTF-8
 * or xn-- form), each at most 63 bytes, at most 253 in all. No quoted strings,
 * no IP literals. Pure module. */
#ifndef RAQIB_EMAIL_H
#define RAQIB_EMAIL_H

#include <stddef.h>

/* Returns NULL when addr (len bytes) is acceptable, else a static sentence
 * saying what is wrong ("the part before @ is longer than 64 characters"). */
const char *email_problem(const char *addr, size_t len);

#endif
