// Small-row fp32 matmuls for EmbedNN's Linear, chosen at run time for the CPU (AVX2+FMA or
// portable C). oneDNN 2.6 keeps fp32 weights in plain layout on AVX2 and re-packs them on every
// call, which for a few rows (one text query) streams them at a fraction of the memory's speed;
// these kernels read weights packed once at load into panels made for streaming
// (bench/NOTES.md, stop 19). Swift cannot compile a function for a wider instruction set than
// the whole module, nor run on oneDNN's OpenMP team; this small C target does both.
#ifndef NN_KERNELS_H
#define NN_KERNELS_H

#include <stddef.h>

/// Columns per panel: a panel holds `k` rows of this many floats (one 64-byte line per row).
#define ENK_PANEL 16

/// Floats of the packed form of an `n × k` matrix: ceil(n / 16) panels of k × 16 (a multiple
/// of 16 floats, so panels stay 64-byte aligned when the buffer is).
size_t enk_packed_count(size_t n, size_t k);

/// Packs `w` (`n` rows of `k` floats, PyTorch's `[out, in]`) into panels: panel p holds columns
/// 16p…16p+15 of wᵀ, row after row (k × 16 floats, contiguous); columns past n are zero.
void enk_pack(const float *w, size_t n, size_t k, float *panels);

/// The inverse, into wᵀ (`k` rows of `n` floats, oneDNN's plain `ab` weights).
void enk_unpack_transposed(const float *panels, size_t n, size_t k, float *wt);

/// What is applied to z = x·wᵀ + b before it is stored (Linear.Epilogue).
enum {
    ENK_NONE = 0,        /* y = z */
    ENK_GELU = 1,        /* y = 0.5·z·(1 + erf(z/√2)) */
    ENK_QUICK_GELU = 2,  /* y = z·sigmoid(1.702·z) */
    ENK_RESIDUAL = 3,    /* y = y + z */
};

/// One matmul: `rows` rows of `x` (k floats each, contiguous) times the packed weights, plus
/// `bias` (ceil(n / 16) × 16 floats, zero past n), into `y` (`rows` rows of n floats).
/// Only y's first n columns of its first `rows` rows are read (residual) or written. `panels`
/// and `bias` must be 32-byte aligned (the kernel's aligned loads); x and y need not be.
typedef struct {
    const float *x;
    const float *panels;
    const float *bias;
    float *y;
    int rows, n, k;
    int epilogue;
} enk_linear;

/// Rows the kernel computes in one pass over the weights (Linear.exactRows); more rows take
/// several passes (oneDNN is the faster choice there).
#define ENK_MAX_ROWS 32

/// Computes share `share` of `shares` of `job` (disjoint column panels): the entry point for a
/// caller that brings its own threads.
void enk_linear_share(const enk_linear *job, int share, int shares);
/// The portable kernel (what `enk_linear_share` runs without AVX2+FMA; tests compare them).
void enk_linear_share_generic(const enk_linear *job, int share, int shares);

/// Computes `job` on the calling thread's OpenMP team (libgomp's, the one oneDNN's primitives
/// use: `threads` members, 0 for the thread's `omp_set_num_threads` value), or alone when
/// threads is 1.
void enk_linear_run(const enk_linear *job, int threads);

/// GELU (erf form) and quick GELU of n floats in place, as the kernels' epilogues compute them
/// (tests compare them with a double-precision reference).
void enk_gelu(float *v, size_t n);
void enk_quick_gelu(float *v, size_t n);

/// Which instruction set the kernels use: "avx2" or "generic".
const char *enk_kernel_name(void);

#endif
