/* xlrs plugin helper for C. `xlrs plugin build` provides this header, its xlrs_plugin.c and
 * the world's bindings (`xlrs.h`, generated from the contract with the world named `xlrs`),
 * and defines XLRS_WORLD_VALIDATOR, XLRS_WORLD_TRANSFORMER or XLRS_WORLD_BACKEND. Strings
 * these functions return are malloc'd: free them. */
#ifndef XLRS_PLUGIN_H
#define XLRS_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "xlrs.h"

/* A value of the plugin's [config] table in plugin.toml, or NULL when unset. */
char *xlrs_config(const char *key);

/* A [config] value as an integer, or `fallback` when unset or not a whole number. */
long long xlrs_config_int(const char *key, long long fallback);

/* Writes a line to the server's log: XLRS_PLUGIN_TYPES_LEVEL_INFO, _WARN, _ERROR, ... */
void xlrs_log(xlrs_plugin_types_level_t level, const char *message);

/* A NUL-terminated copy of a WIT string. */
char *xlrs_cstring(const xlrs_string_t *s);

/* The string at a dotted path of a JSON object ("verb.id", "context.registration"),
 * unescaped; NULL when it is absent or not a string. */
char *xlrs_json_string(const char *json, size_t len, const char *path);

#if defined(XLRS_WORLD_VALIDATOR) || defined(XLRS_WORLD_TRANSFORMER)
/* An error about the statement at `index`, or a plugin failure when index < 0. */
xlrs_error_t xlrs_error(long index, const char *message);
#endif

#if defined(XLRS_WORLD_VALIDATOR)
/* Appends an error to a list (which starts as {0}). */
void xlrs_errors_push(xlrs_list_error_t *list, xlrs_error_t error);
#endif

#endif
