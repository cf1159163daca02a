/* What npm derives from a package.json for its scripts' environment: npm_package_* (npm 7+'s
 * @npmcli/run-script package-envs.js, after @npmcli/package-json's normalization of "bin") and
 * the package id of the banner, and the names it depends on (for `-r GLOB`). Computed once per
 * package at load, from the JSON already parsed. */
#include "scripts/pkg.h"
#include "scripts/pkg_impl.h"

#include "core/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A number as JavaScript's String() writes it (for the values npm meets: integers and short
 * decimals): the shortest text that reads back as the same double. */
static char* js_number(json_t* v) {
   if (json_is_integer(v)) return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
   double d = json_real_value(v);
   char buf[64];
   for (int prec = 1; prec <= 17; prec++) {
      snprintf(buf, sizeof buf, "%.*g", prec, d);
      if (strtod(buf, NULL) == d) break;
   }
   return xstrdup(buf);
}

/* package-envs.js: null and false are "", arrays are KEY_0, KEY_1..., objects recurse with _. */
static void flatten(StrVec* env, const char* prefix, json_t* v) {
   if (json_is_object(v)) {
      const char* k;
      json_t* sub;
      json_object_foreach(v, k, sub) {
         char* p = xasprintf("%s%s_", prefix, k);
         flatten(env, p, sub);
         free(p);
      }
      return;
   }
   size_t n = strlen(prefix) - 1; /* the trailing "_" a parent added */
   if (json_is_array(v)) {
      size_t i;
      json_t* item;
      json_array_foreach(v, i, item) {
         char* p = xasprintf("%.*s_%zu_", (int)n, prefix, i);
         flatten(env, p, item);
         free(p);
      }
      return;
   }
   char* val = json_is_string(v)   ? xstrdup(json_string_value(v))
               : json_is_number(v) ? js_number(v)
               : json_is_true(v)   ? xstrdup("true")
                                   : xstrdup(""); /* null, false */
   pkg_sv_push(env, xasprintf("%.*s=%s", (int)n, prefix, val));
   free(val);
}

/* @npmcli/package-json's secureAndUnixifyPath: path.join('/', ref) made relative, so "./a//b/../c"
 * is "a/c" and nothing climbs out of the package; "" when nothing is left. */
static char* secure_path(const char* ref) {
   char* out = xmalloc(strlen(ref) + 1);
   size_t n = 0;
   for (const char* s = ref; *s;) {
      size_t len = strcspn(s, "/\\");
      if (len == 2 && s[0] == '.' && s[1] == '.') {
         while (n > 0 && out[n - 1] != '/') n--; /* drop the last component */
         if (n > 0) n--;
      } else if (len > 0 && !(len == 1 && s[0] == '.')) {
         if (n > 0) out[n++] = '/';
         memcpy(out + n, s, len);
         n += len;
      }
      s += len;
      if (*s) s++;
   }
   out[n] = '\0';
   return out;
}

static const char* base_of(const char* path) {
   const char* slash = strrchr(path, '/');
   return slash ? slash + 1 : path;
}

/* "bin" as npm normalizes it: a string is {name: path}, an array {basename: path}, keys are
 * basenames, targets secure relative paths, invalid entries dropped. */
static json_t* normalized_bin(json_t* pkg) {
   json_t* bin = json_object_get(pkg, "bin");
   const char* name = json_string_value(json_object_get(pkg, "name"));
   json_t* in = NULL;
   if (json_is_string(bin) && name && *name) {
      in = json_object();
      json_object_set(in, name, bin);
   } else if (json_is_array(bin)) {
      in = json_object();
      size_t i;
      json_t* v;
      json_array_foreach(bin, i, v) {
         if (json_is_string(v)) json_object_set(in, base_of(json_string_value(v)), v);
      }
   } else if (json_is_object(bin)) {
      in = json_incref(bin);
   }
   if (!in) return NULL;
   json_t* out = json_object();
   const char* k;
   json_t* v;
   json_object_foreach(in, k, v) {
      if (!json_is_string(v)) continue;
      char* key = secure_path(k);
      char* target = secure_path(json_string_value(v));
      const char* base = base_of(key);
      if (*base && *target) json_object_set_new(out, base, json_string(target));
      free(key);
      free(target);
   }
   json_decref(in);
   if (json_object_size(out) == 0) {
      json_decref(out);
      return NULL;
   }
   return out;
}

/* The names a package depends on, each once (a package may list one name in several fields). */
static char** dep_names(json_t* pkg) {
   static const char* const fields[] = {"dependencies", "devDependencies", "optionalDependencies",
                                        "peerDependencies"};
   StrVec v = {0};
   for (size_t f = 0; f < ARRAY_LEN(fields); f++) {
      const char* key;
      json_t* val;
      json_t* obj = json_object_get(pkg, fields[f]);
      if (!json_is_object(obj)) continue;
      json_object_foreach(obj, key, val) {
         bool seen = false;
         for (size_t i = 0; i < v.n && !seen; i++) seen = strcmp(v.v[i], key) == 0;
         if (!seen) pkg_sv_push(&v, xstrdup(key));
      }
   }
   pkg_sv_push(&v, NULL);
   return v.v;
}

void pkg_package_init(Package* pk, json_t* pkg, const char* dir, const char* pkgname) {
   *pk = (Package){.dir = xstrdup(dir), .name = xstrdup(pkgname), .deps = dep_names(pkg)};
   StrVec env = {0};
   json_t* name = json_object_get(pkg, "name");
   json_t* version = json_object_get(pkg, "version");
   if (name) flatten(&env, "npm_package_name_", name);
   if (version) flatten(&env, "npm_package_version_", version);
   static const char* const nested[] = {"config", "engines"};
   for (size_t i = 0; i < ARRAY_LEN(nested); i++) {
      json_t* v = json_object_get(pkg, nested[i]);
      if (!v) continue;
      char* prefix = xasprintf("npm_package_%s_", nested[i]);
      flatten(&env, prefix, v);
      free(prefix);
   }
   json_t* bin = normalized_bin(pkg);
   if (bin) flatten(&env, "npm_package_bin_", bin);
   json_decref(bin);
   pkg_sv_push(&env, NULL);
   pk->env = env.v;
   /* npm's _id needs both, as strings or not: `${name}@${version}` of whatever is there. */
   const char* n = json_string_value(name);
   const char* v = json_string_value(version);
   if (n && *n && v && *v) pk->id = xasprintf("%s@%s", n, v);
   pk->dev_engines = json_object_get(pkg, "devEngines") != NULL;
}

void pkg_package_done(Package* pk) {
   for (char** e = pk->env; e && *e; e++) free(*e);
   free(pk->env);
   for (char** d = pk->deps; d && *d; d++) free(*d);
   free(pk->deps);
   free(pk->name);
   free(pk->dir);
   free(pk->id);
}
