/* xlrs plugin helper for C: config, log, strings and a small JSON path lookup. */
#include "xlrs_plugin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

char *xlrs_cstring(const xlrs_string_t *s) {
  char *out = malloc(s->len + 1);
  if (out == NULL) return NULL;
  memcpy(out, s->ptr, s->len);
  out[s->len] = '\0';
  return out;
}

char *xlrs_config(const char *key) {
  xlrs_string_t k, value;
  xlrs_string_set(&k, key);
  if (!xlrs_plugin_host_config(&k, &value)) return NULL;
  char *out = xlrs_cstring(&value);
  xlrs_string_free(&value);
  return out;
}

long long xlrs_config_int(const char *key, long long fallback) {
  char *text = xlrs_config(key);
  if (text == NULL) return fallback;
  char *end = NULL;
  long long n = strtoll(text, &end, 10);
  bool whole = end != text && *end == '\0';
  free(text);
  return whole ? n : fallback;
}

void xlrs_log(xlrs_plugin_types_level_t level, const char *message) {
  xlrs_string_t m;
  xlrs_string_set(&m, message);
  xlrs_plugin_host_log(level, &m);
}

#if defined(XLRS_WORLD_VALIDATOR) || defined(XLRS_WORLD_TRANSFORMER)
xlrs_error_t xlrs_error(long index, const char *message) {
  xlrs_error_t e;
  xlrs_string_dup(&e.message, message);
  e.statement_index.is_some = index >= 0;
  e.statement_index.val = index >= 0 ? (uint32_t)index : 0;
  return e;
}
#endif

#if defined(XLRS_WORLD_VALIDATOR)
void xlrs_errors_push(xlrs_list_error_t *list, xlrs_error_t error) {
  xlrs_error_t *grown = realloc(list->ptr, (list->len + 1) * sizeof(xlrs_error_t));
  if (grown == NULL) return;
  list->ptr = grown;
  list->ptr[list->len++] = error;
}
#endif

/* --- JSON: just enough to find a string by path, without building a tree. --- */

typedef struct {
  const char *p;
  const char *end;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

/* Skips a string starting at its opening quote; false when unterminated. */
static bool skip_string(cursor *c) {
  c->p++;
  while (c->p < c->end) {
    if (*c->p == '\\') {
      c->p += 2;
    } else if (*c->p++ == '"') {
      return true;
    }
  }
  return false;
}

/* Skips any value; false when the text is not JSON. */
static bool skip_value(cursor *c) {
  skip_ws(c);
  if (c->p >= c->end) return false;
  char open = *c->p;
  if (open == '"') return skip_string(c);
  if (open == '{' || open == '[') {
    int depth = 0;
    while (c->p < c->end) {
      char ch = *c->p;
      if (ch == '"') {
        if (!skip_string(c)) return false;
        continue;
      }
      if (ch == '{' || ch == '[') depth++;
      if (ch == '}' || ch == ']') {
        depth--;
        if (depth == 0) {
          c->p++;
          return true;
        }
      }
      c->p++;
    }
    return false;
  }
  while (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ']' && *c->p != ' ' &&
         *c->p != '\n' && *c->p != '\r' && *c->p != '\t')
    c->p++;
  return true;
}

static size_t put_utf8(char *out, uint32_t cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static bool hex4(const char *p, const char *end, uint32_t *out) {
  if (end - p < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char ch = p[i];
    v <<= 4;
    if (ch >= '0' && ch <= '9') v |= (uint32_t)(ch - '0');
    else if (ch >= 'a' && ch <= 'f') v |= (uint32_t)(ch - 'a' + 10);
    else if (ch >= 'A' && ch <= 'F') v |= (uint32_t)(ch - 'A' + 10);
    else return false;
  }
  *out = v;
  return true;
}

/* The unescaped string starting at the cursor's opening quote. */
static char *read_string(cursor *c) {
  const char *start = c->p;
  if (!skip_string(c)) return NULL;
  const char *p = start + 1, *stop = c->p - 1;
  char *out = malloc((size_t)(stop - p) + 1), *w = out;
  if (out == NULL) return NULL;
  while (p < stop) {
    if (*p != '\\') {
      *w++ = *p++;
      continue;
    }
    p++;
    char e = *p++;
    switch (e) {
      case 'b': *w++ = '\b'; break;
      case 'f': *w++ = '\f'; break;
      case 'n': *w++ = '\n'; break;
      case 'r': *w++ = '\r'; break;
      case 't': *w++ = '\t'; break;
      case 'u': {
        uint32_t cp;
        if (!hex4(p, stop, &cp)) goto bad;
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && stop - p >= 6 && p[0] == '\\' && p[1] == 'u') {
          uint32_t low;
          if (hex4(p + 2, stop, &low) && low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            p += 6;
          }
        }
        w += put_utf8(w, cp);
        break;
      }
      default: *w++ = e;
    }
  }
  *w = '\0';
  return out;
bad:
  free(out);
  return NULL;
}

char *xlrs_json_string(const char *json, size_t len, const char *path) {
  cursor c = {json, json + len};
  const char *segment = path;
  for (;;) {
    const char *dot = strchr(segment, '.');
    size_t seg_len = dot ? (size_t)(dot - segment) : strlen(segment);
    skip_ws(&c);
    if (c.p >= c.end || *c.p != '{') return NULL;
    c.p++;
    bool found = false;
    for (;;) {
      skip_ws(&c);
      if (c.p >= c.end || *c.p == '}') return NULL;
      if (*c.p != '"') return NULL;
      const char *key = c.p + 1;
      if (!skip_string(&c)) return NULL;
      size_t key_len = (size_t)(c.p - 1 - key);
      skip_ws(&c);
      if (c.p >= c.end || *c.p != ':') return NULL;
      c.p++;
      skip_ws(&c);
      if (key_len == seg_len && memcmp(key, segment, seg_len) == 0) {
        found = true;
        break;
      }
      if (!skip_value(&c)) return NULL;
      skip_ws(&c);
      if (c.p < c.end && *c.p == ',') c.p++;
    }
    if (!found) return NULL;
    if (dot == NULL) return (c.p < c.end && *c.p == '"') ? read_string(&c) : NULL;
    segment = dot + 1;
  }
}
