/* testutil.h - helpers shared by the cmocka unit tests. */
#ifndef VMS_TESTUTIL_H
#define VMS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Directory of tests/vectors ($VECTORS, else the source tree default). */
const char *tu_vectors_dir(void);
/* Whole file under tests/vectors, decompressed if it ends in .zst/.gz.
 * Fails the test (cmocka fail_msg) if it cannot be read. */
uint8_t *tu_load(const char *relpath, size_t *len);
/* Like tu_load for an absolute path. */
uint8_t *tu_load_path(const char *path, size_t *len);
/* List vector files matching a glob relative to tests/vectors;
 * returns a NULL-terminated malloc'd array of relative paths. */
char **tu_glob(const char *pattern, size_t *n);
void tu_free_list(char **list);
/* The vmdesc trailer: p with d[p]==0x06, BE32 at p+1 == len-p-5,
 * d[p+5]=={, d[p-1]==0x00.  Returns 0 and sets json_off and json_len. */
int tu_find_vmdesc(const uint8_t *d, size_t len, size_t *json_off,
                   size_t *json_len);
/* Write buf to a fresh temporary file; returns its malloc'd path. */
char *tu_write_temp(const uint8_t *buf, size_t len);

#endif
