/* console.c — find a built-in console file by name (see console.h).
 *
 * The table is generated from console/ at build time; a request names a
 * file exactly, so no path is ever joined or opened and "../" cannot reach
 * anything. */
#include "raqib/console.h"

#include <string.h>

const struct console_asset *console_find(const char *name)
{
    if (!name || !*name)
        name = "index.html";
    for (size_t i = 0; i < console_nassets; i++)
        if (strcmp(console_assets[i].name, name) == 0)
            return &console_assets[i];
    return NULL;
}
