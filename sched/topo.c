/* The machine as hwloc sees it, loaded once: the cores that have a PU in
 * the process affinity mask (never assuming contiguous CPU ids), the OS
 * index of one PU per core for binding, and cache sizes for blocking. */
#include <hwloc.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

static struct cmx_topo g_topo;
static hwloc_topology_t g_hw;
static int g_hw_ok;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* A cache's size, or fallback where hwloc has none or reports 0 (some
 * virtual machines), so the sizes in cmx_topo are never 0. */
static size_t cache_size(hwloc_obj_type_t type, size_t fallback) {
  hwloc_obj_t o = hwloc_get_obj_by_type(g_hw, type, 0);
  return o && o->attr && o->attr->cache.size ? (size_t)o->attr->cache.size
                                             : fallback;
}

static void topo_load(void) {
  g_topo.l1d = 32 << 10;
  g_topo.l2 = 1 << 20;
  g_topo.l3 = 32 << 20;
  g_topo.numa_nodes = 1;
  if (hwloc_topology_init(&g_hw) == 0 && hwloc_topology_load(g_hw) == 0) {
    g_hw_ok = 1;
    hwloc_cpuset_t mask = hwloc_bitmap_alloc();
    if (hwloc_get_cpubind(g_hw, mask, HWLOC_CPUBIND_PROCESS) != 0)
      hwloc_bitmap_copy(mask, hwloc_topology_get_allowed_cpuset(g_hw));
    int n = hwloc_get_nbobjs_by_type(g_hw, HWLOC_OBJ_CORE);
    g_topo.core_pu = calloc((size_t)(n > 0 ? n : 1), sizeof(int));
    for (int i = 0; i < n && g_topo.core_pu; i++) {
      hwloc_obj_t c = hwloc_get_obj_by_type(g_hw, HWLOC_OBJ_CORE, i);
      hwloc_cpuset_t both = hwloc_bitmap_alloc();
      hwloc_bitmap_and(both, c->cpuset, mask);
      int pu = hwloc_bitmap_first(both);
      hwloc_bitmap_free(both);
      if (pu >= 0) g_topo.core_pu[g_topo.ncores++] = pu;
    }
    hwloc_bitmap_free(mask);
    g_topo.l1d = cache_size(HWLOC_OBJ_L1CACHE, g_topo.l1d);
    g_topo.l2 = cache_size(HWLOC_OBJ_L2CACHE, g_topo.l2);
    g_topo.l3 = cache_size(HWLOC_OBJ_L3CACHE, g_topo.l3);
    int numa = hwloc_get_nbobjs_by_type(g_hw, HWLOC_OBJ_NUMANODE);
    if (numa > 0) g_topo.numa_nodes = numa;
  }
  if (g_topo.ncores == 0) {
    free(g_topo.core_pu);
    g_topo.core_pu = calloc(1, sizeof(int));
    g_topo.ncores = 1;
  }
  /* A VM given a few cores of a large package sees the whole package's
   * L3 (hwloc reads CPUID), but the other tenants' cores fill most of it.
   * On a 2-core VM of a 480 MiB-L3 Xeon, 1 thread, y = -x in f32: 27.9
   * GB/s for 8 MiB outputs, 27.0 for 16 MiB, then 12.9 for 32 MiB and
   * 12.1 for 64 MiB (memory speed; the regular store's read for
   * ownership included) where streaming stores give 24.1 and 17.8. Server
   * parts have 2-5 MiB of L3 per core; 8 MiB per core of the process
   * bounds the share it can count on. */
  size_t share = (size_t)g_topo.ncores * (8u << 20);
  g_topo.l3_share = g_topo.l3 < share ? g_topo.l3 : share;
}

const struct cmx_topo *cmx_topo(void) {
  pthread_once(&g_once, topo_load);
  return &g_topo;
}

int cmx_topo_parse_cpus(const char *list, int *cores, int max) {
  const struct cmx_topo *t = cmx_topo();
  if (!list || !*list) return -1;
  for (const char *p = list; *p; p++)
    if (!strchr("0123456789,- ", *p)) return -1;
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  if (!set || hwloc_bitmap_list_sscanf(set, list) != 0) {
    hwloc_bitmap_free(set);
    return -1;
  }
  int n = 0;
  for (int c = 0; c < t->ncores && n < max; c++) {
    int hit = hwloc_bitmap_isset(set, (unsigned)t->core_pu[c]);
    if (!hit && g_hw_ok) {
      /* Any PU of that core in the list selects the core. */
      hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(g_hw,
                                                     (unsigned)t->core_pu[c]);
      hwloc_obj_t core = pu ? hwloc_get_ancestor_obj_by_type(
                                  g_hw, HWLOC_OBJ_CORE, pu) : NULL;
      hit = core && hwloc_bitmap_intersects(core->cpuset, set);
    }
    if (hit) cores[n++] = c;
  }
  hwloc_bitmap_free(set);
  return n > 0 ? n : -1;
}

/* Binds the calling thread to one PU (used by team.c). */
int cmx_topo_bind_self(int pu) {
  if (!g_hw_ok) return -1;
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  hwloc_bitmap_only(set, (unsigned)pu);
  int r = hwloc_set_cpubind(g_hw, set, HWLOC_CPUBIND_THREAD);
  hwloc_bitmap_free(set);
  return r;
}
