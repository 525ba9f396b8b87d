// Loads the CBLAS library at first use. Why: OpenBLAS (Debian's 0.3.21, built with DYNAMIC_ARCH)
// picks its kernels in a load-time constructor from the CPU model, and for models it does not know
// (newer Xeons, e.g. family 6 model 207) it falls back to its Prescott (SSE3) kernels, about 4x
// slower than its AVX-512 ones on the same CPU. The constructor reads OPENBLAS_CORETYPE, so a library
// linked at build time is already decided before main(). Loading it here, after setting
// OPENBLAS_CORETYPE from the CPU's own feature flags when the user has not set it, gives every
// ViTLens program (CLI, server, tests, Swift users) the kernels the CPU supports.
//
// Environment:
//   OPENBLAS_CORETYPE        respected as set (ViTLens never overrides it).
//   VITLENS_BLAS_CORETYPE    "keep": do not set OPENBLAS_CORETYPE; any other value: use it instead.
//   VITLENS_BLAS_LIBRARY     another CBLAS library to load (a path or soname), e.g. BLIS.
//   OPENBLAS_THREAD_TIMEOUT  respected as set; otherwise ViTLens sets 4, so OpenBLAS's idle threads
//                            sleep after about 2^4 cycles instead of spinning for 2^28 (their spinning
//                            took the cores ViTLens's own attention threads run on; measured below).
#include "vitlens_blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*corename_fn)(void);
// oneDNN's BLAS-like product (row-major; 64-bit sizes; returns a status, 0 = success).
typedef int (*dnnl_sgemm_fn)(char, char, long long, long long, long long, float, const float *, long long,
                             const float *, long long, float, float *, long long);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_fn sgemm_ptr;
static set_threads_fn set_threads_ptr;
static get_threads_fn get_threads_ptr;
static corename_fn corename_ptr;
static dnnl_sgemm_fn dnnl_sgemm_ptr;
// OpenMP's thread count is per calling thread, OpenBLAS's per process: with oneDNN the wanted count
// is kept here and applied on each calling thread before its next product (ViTLens's attention calls
// BLAS from several threads after setting 1 thread on the main one).
static _Atomic int omp_wanted = 0;
static _Thread_local int omp_applied = 0;
static int using_omp = 0;
static char error_text[512];
static char library_name[256];
static char chosen[32];

const char *vitlens_blas_recommended_coretype(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return "";
}

static void choose_coretype(int *did_set) {
    *did_set = 0;
    if (getenv("OPENBLAS_CORETYPE") != NULL) return;
    const char *wish = getenv("VITLENS_BLAS_CORETYPE");
    if (wish != NULL && strcmp(wish, "keep") == 0) return;
    const char *type = (wish != NULL && wish[0] != '\0') ? wish : vitlens_blas_recommended_coretype();
    if (type[0] == '\0') return;
    if (setenv("OPENBLAS_CORETYPE", type, 0) == 0) {
        snprintf(chosen, sizeof chosen, "%s", type);
        *did_set = 1;
    }
}

static void dnnl_sgemm_row_major(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                                 int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    (void)order;
    int wanted = omp_wanted;
    if (wanted > 0 && wanted != omp_applied) {
        set_threads_ptr(wanted);
        omp_applied = wanted;
    }
    int status = dnnl_sgemm_ptr(trans_a == TRANS ? 'T' : 'N', trans_b == TRANS ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb,
                                beta, c, ldc);
    if (status != 0) {
        fprintf(stderr, "ViTLens: dnnl_sgemm failed with status %d (m %d, n %d, k %d)\n", status, m, n, k);
        exit(70);
    }
}

static void load_once(void) {
    const char *override = getenv("VITLENS_BLAS_LIBRARY");
    const char *candidates[] = {"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", NULL};
    int did_set = 0;
    choose_coretype(&did_set);
    // Read by OpenBLAS's constructor, so set before loading; never overrides the user's value.
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
    void *handle = NULL;
    if (override != NULL && override[0] != '\0') {
        handle = dlopen(override, RTLD_NOW | RTLD_LOCAL);
        if (handle != NULL) snprintf(library_name, sizeof library_name, "%s", override);
    } else {
        for (int i = 0; candidates[i] != NULL && handle == NULL; i++) {
            handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
            if (handle != NULL) snprintf(library_name, sizeof library_name, "%s", candidates[i]);
        }
    }
    // The variable stays set (unsetenv would race with getenv in other threads); child processes
    // inherit the same choice, and ViTLens children respect it.
    (void)did_set;
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(error_text, sizeof error_text,
                 "cannot load the BLAS library %s (%s); install OpenBLAS (Debian: apt-get install libopenblas0)",
                 override != NULL && override[0] != '\0' ? override : "libopenblas.so.0", why ? why : "not found");
        chosen[0] = '\0';
        return;
    }
    sgemm_ptr = (sgemm_fn)dlsym(handle, "cblas_sgemm");
    if (sgemm_ptr == NULL) {
        dnnl_sgemm_ptr = (dnnl_sgemm_fn)dlsym(handle, "dnnl_sgemm");
        if (dnnl_sgemm_ptr != NULL) sgemm_ptr = dnnl_sgemm_row_major;
    }
    if (sgemm_ptr == NULL) {
        snprintf(error_text, sizeof error_text, "the BLAS library %s has neither cblas_sgemm nor dnnl_sgemm", library_name);
        return;
    }
    set_threads_ptr = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
    get_threads_ptr = (get_threads_fn)dlsym(handle, "openblas_get_num_threads");
    if (set_threads_ptr == NULL) set_threads_ptr = (set_threads_fn)dlsym(handle, "bli_thread_set_num_threads");
    if (get_threads_ptr == NULL) get_threads_ptr = (get_threads_fn)dlsym(handle, "bli_thread_get_num_threads");
    if (set_threads_ptr == NULL && dnnl_sgemm_ptr != NULL) {
        set_threads_ptr = (set_threads_fn)dlsym(handle, "omp_set_num_threads");
        get_threads_ptr = (get_threads_fn)dlsym(handle, "omp_get_max_threads");
        using_omp = set_threads_ptr != NULL;
    }
    corename_ptr = (corename_fn)dlsym(handle, "openblas_get_corename");
}

int vitlens_blas_load(void) {
    pthread_once(&once, load_once);
    return sgemm_ptr != NULL ? 0 : -1;
}

const char *vitlens_blas_error(void) {
    vitlens_blas_load();
    return error_text[0] != '\0' ? error_text : NULL;
}

void vitlens_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc) {
    if (sgemm_ptr == NULL && vitlens_blas_load() != 0) {
        fprintf(stderr, "ViTLens: %s\n", error_text);
        exit(70);
    }
    sgemm_ptr(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb,
              beta, c, ldc);
}

void vitlens_blas_set_threads(int n) {
    if (vitlens_blas_load() != 0 || set_threads_ptr == NULL) return;
    if (using_omp) omp_wanted = n < 1 ? 1 : n;
    else set_threads_ptr(n < 1 ? 1 : n);
}

int vitlens_blas_get_threads(void) {
    if (vitlens_blas_load() == 0 && using_omp && omp_wanted > 0) return omp_wanted;
    if (vitlens_blas_load() == 0 && get_threads_ptr != NULL) {
        int n = get_threads_ptr();
        return n < 1 ? 1 : n;
    }
    return 1;
}

const char *vitlens_blas_core_name(void) {
    if (vitlens_blas_load() == 0 && corename_ptr != NULL) {
        const char *name = corename_ptr();
        return name != NULL ? name : "";
    }
    return "";
}

const char *vitlens_blas_library(void) {
    vitlens_blas_load();
    return library_name;
}

const char *vitlens_blas_chosen_coretype(void) {
    vitlens_blas_load();
    return chosen;
}
