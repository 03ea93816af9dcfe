/* {{name}} — an xlrs transformer: passes every statement through unchanged and logs how many
 * it saw. Rewrite the statements in the loop (ids must stay unchanged). (`xlrs plugin build`
 * provides xlrs_plugin.h and the bindings in xlrs.h.) */
#include <stdio.h>

#include "xlrs_plugin.h"

bool exports_xlrs_transform(xlrs_list_string_t *statements, xlrs_list_string_t *ret,
                            xlrs_error_t *err) {
  (void)err;
  for (size_t i = 0; i < statements->len; i++) {
    /* statements->ptr[i] is the statement's JSON text: replace it with your rewrite. */
  }
  char line[80];
  snprintf(line, sizeof line, "{{name}} saw %zu statement(s)", statements->len);
  xlrs_log(XLRS_PLUGIN_TYPES_LEVEL_DEBUG, line);
  *ret = *statements; /* the batch's memory now belongs to the result */
  return true;
}
