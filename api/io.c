/* safetensors IO. Loading reads the u64 little-endian header length, hands
 * the JSON header to the strict parser of io-header.c, which checks every
 * tensor's dtype, shape and data_offsets against the file before anything
 * is allocated, then reads each tensor straight into a cmx buffer (so the
 * memory limit applies). Saving evaluates the arrays and writes them
 * row-major to a temporary file that is renamed over the path, so a failed
 * save leaves no partial file. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

/* The format's data is little-endian and is copied as is. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "cmx's safetensors IO assumes a little-endian host");

/* The reference (Rust) implementation refuses headers over 100 MB; a
 * larger length is a corrupt or hostile file, not a model. */
#define HEADER_MAX ((uint64_t)100000000)

static const char LOAD[] = CMX_ST_LOAD;
static const char SAVE[] = "cmx_save_safetensors";

/* ---- load ------------------------------------------------------------- */

static int read_at(int fd, void *dst, size_t len, uint64_t off,
                   const char *path) {
  char *d = dst;
  while (len) {
    ssize_t r = pread(fd, d, len < ((size_t)1 << 30) ? len : (size_t)1 << 30,
                      (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0)
      return cmx_st_lerr(path, CMX_EIO, "reading at byte %llu failed: %s",
                         (unsigned long long)off, strerror(errno));
    if (r == 0)
      return cmx_st_lerr(path, CMX_EIO,
                         "the file ended at byte %llu while "
                         "reading it (truncated meanwhile?)",
                         (unsigned long long)off);
    d += r;
    len -= (size_t)r;
    off += (uint64_t)r;
  }
  return CMX_OK;
}

/* An evaluated array for e, its data read from the file. */
static int load_tensor(cmx_array *out, int fd, uint64_t data_start,
                       const struct cmx_st_entry *e, const char *path) {
  cmx_array a = cmx_array_alloc(e->dtype, e->shape, e->ndim, LOAD);
  *out = NULL;
  if (!a) return cmx_last_status();
  size_t nbytes = (size_t)(e->end - e->begin);
  a->buf = cmx_buffer_new(nbytes, LOAD);
  if (!a->buf) {
    free(a);
    return CMX_ENOMEM;
  }
  int st = read_at(fd, a->buf->data, nbytes, data_start + e->begin, path);
  if (st) {
    cmx_array_free(a);
    return st;
  }
  /* cmx's kernels take bools as 0 or 1; other writers may store any
   * nonzero byte. */
  if (e->dtype == CMX_BOOL) {
    unsigned char *b = a->buf->data;
    for (size_t i = 0; i < nbytes; i++) b[i] = b[i] != 0;
  }
  a->op = CMX_OP_none;
  atomic_store_explicit(&a->state, CMX_STATE_DONE, memory_order_release);
  *out = a;
  return CMX_OK;
}

static int load_fd(int fd, const char *path, cmx_array **arrays, char ***names,
                   size_t *n) {
  struct stat sb;
  if (fstat(fd, &sb))
    return cmx_st_lerr(path, CMX_EIO, "cannot stat: %s", strerror(errno));
  if (!S_ISREG(sb.st_mode))
    return cmx_st_lerr(path, CMX_EIO, "not a regular file");
  const uint64_t size = (uint64_t)sb.st_size;
  if (size < 8)
    return cmx_st_lerr(path, CMX_EIO,
                       "%llu bytes, shorter than the 8-byte "
                       "header length",
                       (unsigned long long)size);
  unsigned char lb[8];
  int st = read_at(fd, lb, 8, 0, path);
  if (st) return st;
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | lb[i];
  if (hlen > HEADER_MAX)
    return cmx_st_lerr(path, CMX_EIO,
                       "header length %llu is over the %llu-byte "
                       "limit",
                       (unsigned long long)hlen,
                       (unsigned long long)HEADER_MAX);
  if (hlen > size - 8)
    return cmx_st_lerr(path, CMX_EIO,
                       "header length %llu is more than the %llu "
                       "bytes after it",
                       (unsigned long long)hlen,
                       (unsigned long long)(size - 8));
  unsigned char *hdr = malloc(hlen ? hlen : 1);
  if (!hdr) return cmx_err(CMX_ENOMEM, "%s: out of memory", LOAD);
  if ((st = read_at(fd, hdr, hlen, 8, path))) {
    free(hdr);
    return st;
  }

  struct cmx_st_entry *es;
  size_t count;
  st = cmx_st_parse_header(path, hdr, hlen, size - 8 - hlen, &es, &count);
  free(hdr);
  if (st) return st;
  if (!count) {
    free(es);
    return CMX_OK;
  }
  cmx_array *as = calloc(count, sizeof *as);
  char **ns = calloc(count, sizeof *ns);
  if (!as || !ns) st = cmx_err(CMX_ENOMEM, "%s: out of memory", LOAD);
  for (size_t i = 0; i < count && !st; i++)
    st = load_tensor(&as[i], fd, 8 + hlen, &es[i], path);
  if (st) {
    for (size_t i = 0; as && i < count; i++) cmx_array_free(as[i]);
    free(as);
    free(ns);
    cmx_st_free_entries(es, count);
    return st;
  }
  /* The names move from the entries to the caller. */
  for (size_t i = 0; i < count; i++) ns[i] = es[i].name;
  free(es);
  *arrays = as;
  *names = ns;
  *n = count;
  return CMX_OK;
}

int cmx_load_safetensors(const char *path, cmx_array **arrays, char ***names,
                         size_t *n) {
  if (arrays) *arrays = NULL;
  if (names) *names = NULL;
  if (n) *n = 0;
  if (!path || !arrays || !names || !n)
    return cmx_err(CMX_EINVAL, "%s: %s is NULL", LOAD,
                   !path     ? "path"
                   : !arrays ? "arrays"
                   : !names  ? "names"
                             : "n");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cmx_st_lerr(path, CMX_EIO, "cannot open: %s", strerror(errno));
  int st = load_fd(fd, path, arrays, names, n);
  close(fd);
  return st;
}

/* ---- save ------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_save_args(const char *path, const cmx_array *arrays,
                           const char *const *names, size_t n) {
  if (!path) return cmx_err(CMX_EINVAL, "%s: path is NULL", SAVE);
  if (n && !arrays) return cmx_err(CMX_EINVAL, "%s: arrays is NULL", SAVE);
  if (n && !names) return cmx_err(CMX_EINVAL, "%s: names is NULL", SAVE);
  for (size_t i = 0; i < n; i++) {
    char what[40];
    snprintf(what, sizeof what, "arrays[%zu]", i);
    int st = cmx_array_check(arrays[i], SAVE, what);
    if (st) return st;
    if (!names[i])
      return cmx_err(CMX_EINVAL, "%s: names[%zu] is NULL", SAVE, i);
    if (!cmx_st_utf8_valid(names[i]))
      return cmx_err(CMX_EINVAL, "%s: names[%zu] is not valid UTF-8", SAVE, i);
    if (!strcmp(names[i], "__metadata__"))
      return cmx_err(CMX_EINVAL,
                     "%s: names[%zu] is \"__metadata__\", which "
                     "the format reserves",
                     SAVE, i);
  }
  if (n < 2) return CMX_OK;
  const char **sorted = malloc(n * sizeof *sorted);
  if (!sorted) return cmx_err(CMX_ENOMEM, "%s: out of memory", SAVE);
  memcpy(sorted, names, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, cmp_str);
  int st = CMX_OK;
  for (size_t i = 1; i < n && !st; i++)
    if (!strcmp(sorted[i - 1], sorted[i]))
      st = cmx_err(CMX_EINVAL, "%s: the name '%.64s' appears twice", SAVE,
                   sorted[i]);
  free(sorted);
  return st;
}

/* The file's first bytes: the length field, then the header, its keys in
 * the caller's order and data in that order, padded with spaces so the data
 * starts 8-byte aligned. *out is malloc'd (freed by the caller). */
static int build_header(char **out, size_t *len, const cmx_array *arrays,
                        const char *const *names, size_t n) {
  FILE *f = open_memstream(out, len);
  unsigned long long off = 0;
  if (!f) return cmx_err(CMX_ENOMEM, "%s: out of memory", SAVE);
  fputs("        {", f); /* the length field, filled in below */
  for (size_t i = 0; i < n; i++) {
    const cmx_array a = arrays[i];
    const unsigned long long nbytes = cmx_array_nbytes(a);
    /* Names are UTF-8 (checked): only '"', '\\' and control bytes need
     * escapes. */
    fputs(i ? ",\"" : "\"", f);
    for (const unsigned char *c = (const void *)names[i]; *c; c++)
      if (*c == '"' || *c == '\\')
        fprintf(f, "\\%c", *c);
      else if (*c < 0x20)
        fprintf(f, "\\u%04x", *c);
      else
        fputc(*c, f);
    fprintf(f, "\":{\"dtype\":\"%s\",\"shape\":[", cmx_st_dtype_name(a->dtype));
    for (int d = 0; d < a->ndim; d++)
      fprintf(f, d ? ",%lld" : "%lld", (long long)a->shape[d]);
    fprintf(f, "],\"data_offsets\":[%llu,%llu]}", off, off + nbytes);
    off += nbytes;
  }
  fputc('}', f);
  int bad = fflush(f) != 0;
  for (size_t k = *len; k % 8; k++) fputc(' ', f);
  bad |= ferror(f) != 0;
  if (fclose(f) || bad) {
    free(*out);
    *out = NULL;
    return cmx_err(CMX_ENOMEM, "%s: out of memory", SAVE);
  }
  for (int i = 0; i < 8; i++) (*out)[i] = (char)((*len - 8) >> (8 * i));
  return CMX_OK;
}

static int write_all(int fd, const void *src, size_t len, const char *tmp) {
  const char *s = src;
  while (len) {
    ssize_t w = write(fd, s, len < ((size_t)1 << 30) ? len : (size_t)1 << 30);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0)
      return cmx_err(CMX_EIO, "%s: writing '%s' failed: %s", SAVE, tmp,
                     strerror(errno));
    s += w;
    len -= (size_t)w;
  }
  return CMX_OK;
}

/* a's elements, row-major: its own buffer, or a copy of a strided view in
 * an accounted buffer (the memory limit applies to it too). */
static int write_array(int fd, cmx_array a, const char *tmp) {
  const size_t nbytes = cmx_array_nbytes(a);
  if (!nbytes) return CMX_OK;
  if (cmx_is_row_major(a->shape, a->strides, a->ndim))
    return write_all(fd, cmx_array_ptr(a), nbytes, tmp);
  struct cmx_buffer *dense = cmx_buffer_new(nbytes, SAVE);
  if (!dense) return CMX_ENOMEM;
  cmx_copy_into(dense->data, a->dtype, a, 1);
  int st = write_all(fd, dense->data, nbytes, tmp);
  cmx_buffer_release(dense);
  return st;
}

static atomic_uint g_tmp_seq;

int cmx_save_safetensors(const char *path, const cmx_array *arrays,
                         const char *const *names, size_t n) {
  int st = check_save_args(path, arrays, names, n);
  if (st) return st;
  if (n && (st = cmx_eval(arrays, n))) return st;
  char *hdr;
  size_t hlen;
  if ((st = build_header(&hdr, &hlen, arrays, names, n))) return st;
  /* pid and a counter: saves from other processes or threads to the same
   * path never share a temporary file. */
  size_t tlen = strlen(path) + 48;
  char *tmp = malloc(tlen);
  if (!tmp) {
    free(hdr);
    return cmx_err(CMX_ENOMEM, "%s: out of memory", SAVE);
  }
  snprintf(tmp, tlen, "%s.tmp-%ld-%u", path, (long)getpid(),
           atomic_fetch_add(&g_tmp_seq, 1));
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    st = cmx_err(CMX_EIO, "%s: cannot create '%s': %s", SAVE, tmp,
                 strerror(errno));
    goto out;
  }
  st = write_all(fd, hdr, hlen, tmp);
  for (size_t i = 0; i < n && !st; i++) st = write_array(fd, arrays[i], tmp);
  /* Flushed before the rename, so a crash cannot leave path renamed onto a
   * file whose data never reached the disk. */
  if (!st && fsync(fd))
    st = cmx_err(CMX_EIO, "%s: flushing '%s' failed: %s", SAVE, tmp,
                 strerror(errno));
  if (close(fd) && !st)
    st = cmx_err(CMX_EIO, "%s: closing '%s' failed: %s", SAVE, tmp,
                 strerror(errno));
  if (!st && rename(tmp, path))
    st = cmx_err(CMX_EIO, "%s: renaming '%s' to '%s' failed: %s", SAVE, tmp,
                 path, strerror(errno));
  if (st) unlink(tmp);
out:
  free(tmp);
  free(hdr);
  return st;
}
