/* {{name}} — an xlrs validator: rejects statements with the verb set as deny_verb in
 * plugin.toml. Replace the check with your own rule. (`xlrs plugin build` provides
 * xlrs_plugin.h and the bindings in xlrs.h.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlrs_plugin.h"

bool exports_xlrs_validate(xlrs_list_string_t *statements, xlrs_list_error_t *err) {
  char *configured = xlrs_config("deny_verb");
  const char *deny_verb = configured ? configured : "http://example.org/verbs/forbidden";
  xlrs_list_error_t errors = {0};
  for (size_t i = 0; i < statements->len; i++) {
    const xlrs_string_t *text = &statements->ptr[i];
    char *verb = xlrs_json_string((const char *)text->ptr, text->len, "verb.id");
    if (verb != NULL && strcmp(verb, deny_verb) == 0) {
      char message[512];
      snprintf(message, sizeof message, "the verb %s is not accepted here", deny_verb);
      xlrs_errors_push(&errors, xlrs_error((long)i, message));
    }
    free(verb);
  }
  free(configured);
  xlrs_list_string_free(statements);
  if (errors.len == 0) return true;
  *err = errors;
  return false;
}
