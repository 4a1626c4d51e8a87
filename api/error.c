/* Status codes, the thread-local last error and the error handler. Every
 * failing public call goes through cmx_err, so the message is set and the
 * handler called in one place. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static _Thread_local char tls_msg[1024];
static _Thread_local int tls_status;
/* The handler and its context change together: one immutable pair,
 * published with an atomic pointer (replaced pairs are kept: a racing
 * reader may still hold one; they are a few bytes per call). */
struct handler { cmx_error_handler fn; void *ctx; struct handler *prev; };
static _Atomic(struct handler *) g_handler;

const char *cmx_status_string(int status) {
  switch (status) {
    case CMX_OK: return "CMX_OK";
    case CMX_EINVAL: return "CMX_EINVAL";
    case CMX_ESHAPE: return "CMX_ESHAPE";
    case CMX_EDTYPE: return "CMX_EDTYPE";
    case CMX_ENOMEM: return "CMX_ENOMEM";
    case CMX_EUNSUPPORTED: return "CMX_EUNSUPPORTED";
    case CMX_EIO: return "CMX_EIO";
    case CMX_ESTATE: return "CMX_ESTATE";
    case CMX_EINTERNAL: return "CMX_EINTERNAL";
    default: return "CMX_E?";
  }
}

const char *cmx_last_error(void) { return tls_msg; }

void cmx_set_error_handler(cmx_error_handler h, void *ctx) {
  struct handler *n = malloc(sizeof *n);
  if (!n) return;
  n->fn = h;
  n->ctx = ctx;
  n->prev = atomic_load(&g_handler);
  atomic_store(&g_handler, n);
}

int cmx_err(int status, const char *fmt, ...) {
  va_list ap;
  tls_status = status;
  va_start(ap, fmt);
  vsnprintf(tls_msg, sizeof tls_msg, fmt, ap);
  va_end(ap);
  struct handler *h = atomic_load(&g_handler);
  if (h && h->fn) h->fn(status, tls_msg, h->ctx);
  return status;
}

const char *cmx_fmt_shape(char *buf, const int64_t *shape, int ndim) {
  size_t n = 0;
  buf[n++] = '(';
  for (int i = 0; i < ndim && i < CMX_MAX_DIMS; i++)
    n += (size_t)sprintf(buf + n, i ? ",%lld" : "%lld", (long long)shape[i]);
  if (ndim == 1) buf[n++] = ',';
  buf[n++] = ')';
  buf[n] = 0;
  return buf;
}

int cmx_last_status(void) { return tls_status; }
