/* safetensors IO, shared by io.c (load and save) and io-header.c (the
 * strict JSON header parser): the dtype names, UTF-8 validation and the
 * parsed tensor entries. Internal to api/. */
#ifndef CMX_API_IO_H
#define CMX_API_IO_H
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define CMX_ST_LOAD "cmx_load_safetensors"

/* One tensor of a header: its name (owned), dtype, shape and the data
 * offsets (from the end of the header), in file order once parsed. */
struct cmx_st_entry {
  char *name;
  cmx_dtype dtype;
  int ndim;
  int64_t shape[CMX_MAX_DIMS];
  uint64_t begin, end;
  size_t index; /* position in the header: ties in begin keep it */
};

/* status with "cmx_load_safetensors: '<path>': " before the message. */
int cmx_st_lerr(const char *path, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parses the n-byte header of path, whose data area is data_len bytes:
 * an object of tensor entries and at most one "__metadata__", each entry
 * checked against the data area. On success *out holds *count entries in
 * file order (free with cmx_st_free_entries); else CMX_EIO, CMX_EDTYPE,
 * CMX_EUNSUPPORTED or CMX_ENOMEM with the message set. */
int cmx_st_parse_header(const char *path, const unsigned char *s, size_t n,
                        uint64_t data_len, struct cmx_st_entry **out,
                        size_t *count);
void cmx_st_free_entries(struct cmx_st_entry *es, size_t n);
/* The safetensors name of a cmx dtype ("F32"), or NULL. */
const char *cmx_st_dtype_name(cmx_dtype d);
/* 1 when s is well-formed UTF-8. */
int cmx_st_utf8_valid(const char *s);

#endif
