/*
 * vmdesc_json.h - the vmdesc JSON text: parsing, QEMU-exact re-serialising
 * and numbers in its text.
 *
 * Owns: turning the JSON trailer bytes into a json-c tree under resource
 * limits (length, nesting depth, no trailing bytes) with error offsets;
 * writing a json-c tree back byte-for-byte the way QEMU 7.2's JSONWriter
 * (qobject/json-writer.c, non-pretty) writes it; reading numbers in the
 * text.
 * Does not own: the Arm "cpu" entries (arm/cpu_vmdesc.h), the vmdesc schema
 * walk (vmdesc.c), finding the trailer in a
 * stream, the BE32 length in front of the JSON, or the section bytes.
 */
#ifndef VMS_VMDESC_JSON_H
#define VMS_VMDESC_JSON_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct vms_error;

/*
 * Default cap on value nesting, counted as json-c counts it: the top-level
 * object is level 1 and every value inside a container (scalar, container
 * or empty container alike) is one level deeper than the container, so
 * `{"a": [1]}` has depth 3.  A 7.2 vmdesc needs 6 levels for
 * root/devices/device/fields/field/scalar, 3 more per nested struct and
 * per subsection level; the Arm virt streams need 11.  64 leaves room for
 * VMS_MAX_NESTING (16) levels of structs and subsections together.
 */
#define VMS_JSON_MAX_DEPTH 64

/*
 * Parse len bytes of JSON text (need not be NUL-terminated).  The text must
 * be exactly one JSON object: nothing but JSON whitespace may follow it, and
 * it may not contain NUL bytes.  Parsing uses JSON_TOKENER_STRICT (no
 * comments, trailing commas or single-quoted values; json-c still takes
 * single-quoted keys, NaN and raw control characters in strings) and the
 * text must be valid UTF-8.
 * len > max_len is a VMS_E_LIMIT error, as is nesting deeper than
 * VMS_JSON_MAX_DEPTH.  stream_offset is the absolute offset of text[0] in
 * the decoded stream; errors carry stream_offset + the byte offset where
 * parsing failed.  Returns a new tree (release with json_object_put) or
 * NULL after latching err.
 *
 * Note: json-c keeps only the last value of a repeated key, and clamps
 * integers outside the int64/uint64 range.  QEMU writes repeated keys for
 * qtailq/gtree fields; use vms_json_roundtrips() before rewriting a tree
 * that must reproduce the input.
 */
struct json_object *vms_json_parse(const char *text, size_t len,
                                   size_t max_len, uint64_t stream_offset,
                                   struct vms_error *err);
/* Same, with an explicit cap on value nesting (>= 1; see above). */
struct json_object *vms_json_parse_ex(const char *text, size_t len,
                                      size_t max_len, int max_depth,
                                      uint64_t stream_offset,
                                      struct vms_error *err);

/*
 * Write root as QEMU's non-pretty JSONWriter would: `{"a": 1, "b": [1, 2]}`,
 * members in the tree's (insertion) order, "{}" / "[]" when empty, integers
 * in decimal, doubles as "%.17g" (C locale), strings escaped like 7.2's
 * quoted_str(), no trailing newline.  A NULL root is written as "null".
 * Returns a malloc'd buffer of *len bytes followed by a NUL that is not
 * counted, or NULL when out of memory.
 */
char *vms_json_qemu_serialise(struct json_object *root, size_t *len);

/*
 * 1 if serialising root gives exactly the len bytes at text, else 0 (also
 * when out of memory).  A 0 for a tree parsed from text means the input was
 * not QEMU-canonical or lost information in json-c (repeated keys,
 * out-of-range integers), so a rewritten tree would change more than the
 * rewrite asked for.
 */
int vms_json_roundtrips(struct json_object *root, const char *text,
                        size_t len);

/* The decimal number at *p in vmdesc text (not NUL-terminated: nothing
 * at or after end is read), at most max_digits digits; *p moves past it.
 * Returns how many digits were read, 0 if none. */
int vms_json_text_uint(const char **p, const char *end, int max_digits,
                       uint64_t *v);

#endif
