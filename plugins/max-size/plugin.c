/* max-size — a validator (C) that rejects statements whose JSON is larger than `max_bytes`
 * (plugin.toml [config], default 65536): a guard against oversized extensions or embedded
 * content before they reach the store. */
#include <stdio.h>

#include "xlrs_plugin.h"

bool exports_xlrs_validate(xlrs_list_string_t *statements, xlrs_list_error_t *err) {
  long long max = xlrs_config_int("max_bytes", 65536);
  xlrs_list_error_t errors = {0};
  if (max <= 0) {
    xlrs_errors_push(&errors, xlrs_error(-1, "max-size: max_bytes must be a positive whole number"));
  }
  for (size_t i = 0; max > 0 && i < statements->len; i++) {
    size_t size = statements->ptr[i].len;
    if ((long long)size > max) {
      char message[160];
      snprintf(message, sizeof message,
               "the statement is %zu bytes of JSON; this LRS accepts at most %lld", size, max);
      xlrs_errors_push(&errors, xlrs_error((long)i, message));
    }
  }
  xlrs_list_string_free(statements);
  if (errors.len == 0) return true;
  *err = errors;
  return false;
}
