/* fault-c — a validator (C) that misbehaves on purpose, for the tests that hold every
 * language to one rule: only an explicit rejection is a verdict on the data (400), a crash is
 * the plugin's failure (500). Config `mode`: `throw` (prints why and calls abort()), `reject`
 * (an error for every statement), anything else accepts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlrs_plugin.h"

bool exports_xlrs_validate(xlrs_list_string_t *statements, xlrs_list_error_t *err) {
  char *mode = xlrs_config("mode");
  bool throw = mode != NULL && strcmp(mode, "throw") == 0;
  bool reject = mode != NULL && strcmp(mode, "reject") == 0;
  free(mode);
  if (throw) {
    fprintf(stderr, "fault-c: giving up on purpose\n");
    abort();
  }
  xlrs_list_error_t errors = {0};
  for (size_t i = 0; reject && i < statements->len; i++) {
    char message[64];
    snprintf(message, sizeof message, "statement %zu rejected on purpose", i);
    xlrs_errors_push(&errors, xlrs_error((long)i, message));
  }
  xlrs_list_string_free(statements);
  if (errors.len == 0) return true;
  *err = errors;
  return false;
}
