#include "nn_kernels.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

/* libgomp's entry points, declared here because omp.h lives in gcc's private include dir and
 * clang (which builds this target) only emits OpenMP code for LLVM's runtime: a
 * `#pragma omp parallel` here would pull in libomp beside oneDNN's libgomp, two thread pools
 * on the same cores. GOMP_parallel is what gcc emits for that pragma (GOMP_4.0 ABI): it runs
 * fn on the calling thread's team, the same threads oneDNN's primitives use. */
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);

size_t enk_packed_count(size_t n, size_t k) { return (n + ENK_PANEL - 1) / ENK_PANEL * k * ENK_PANEL; }

void enk_pack(const float *w, size_t n, size_t k, float *panels) {
    size_t count = (n + ENK_PANEL - 1) / ENK_PANEL;
    for (size_t p = 0; p < count; p++) {
        float *dst = panels + p * k * ENK_PANEL;
        size_t cols = n - p * ENK_PANEL < ENK_PANEL ? n - p * ENK_PANEL : ENK_PANEL;
        for (size_t j = 0; j < ENK_PANEL; j++) {
            const float *src = w + (p * ENK_PANEL + j) * k;
            if (j < cols) for (size_t i = 0; i < k; i++) dst[i * ENK_PANEL + j] = src[i];
            else for (size_t i = 0; i < k; i++) dst[i * ENK_PANEL + j] = 0;
        }
    }
}

void enk_unpack_transposed(const float *panels, size_t n, size_t k, float *wt) {
    for (size_t i = 0; i < k; i++)
        for (size_t c = 0; c < n; c++)
            wt[i * n + c] = panels[(c / ENK_PANEL) * k * ENK_PANEL + i * ENK_PANEL + c % ENK_PANEL];
}

/* ---- portable ---- */

static float gelu1(float z) { return 0.5f * z * erfcf(-z * 0.70710678118654752f); }
static float quick_gelu1(float z) { return z / (1.0f + expf(-1.702f * z)); }

/* Row groups of at most 6 (the AVX2 tile's height), as even as possible: rows 0…r split into
 * `groups` groups, group g starting at start(g). */
static int group_count(int rows) { return (rows + 5) / 6; }
static int group_start(int rows, int groups, int g) { return rows / groups * g + (g < rows % groups ? g : rows % groups); }

static void panel_range(const enk_linear *j, int share, int shares, int *first, int *end) {
    int panels = (j->n + ENK_PANEL - 1) / ENK_PANEL;
    *first = (int)((long)panels * share / shares);
    *end = (int)((long)panels * (share + 1) / shares);
}

void enk_linear_share_generic(const enk_linear *j, int share, int shares) {
    int p0, p1;
    panel_range(j, share, shares, &p0, &p1);
    for (int p = p0; p < p1; p++) {
        const float *w = j->panels + (size_t)p * j->k * ENK_PANEL;
        int cols = j->n - p * ENK_PANEL < ENK_PANEL ? j->n - p * ENK_PANEL : ENK_PANEL;
        for (int r = 0; r < j->rows; r++) {
            const float *x = j->x + (size_t)r * j->k;
            float *y = j->y + (size_t)r * j->n + p * ENK_PANEL;
            for (int c = 0; c < cols; c++) {
                float s = 0;
                for (int i = 0; i < j->k; i++) s += x[i] * w[(size_t)i * ENK_PANEL + c];
                float z = s + j->bias[p * ENK_PANEL + c];
                switch (j->epilogue) {
                case ENK_GELU: z = gelu1(z); break;
                case ENK_QUICK_GELU: z = quick_gelu1(z); break;
                case ENK_RESIDUAL: z = y[c] + z; break;
                default: break;
                }
                y[c] = z;
            }
        }
    }
}

/* ---- AVX2 + FMA ---- */

/* e^x to ~2 ulp: x = n·ln2 + r, |r| ≤ ln2/2, e^r by its Taylor series to r^7 (truncation
 * < 3e-8 relative), 2^n through the exponent bits. x is clamped to [-87, 88] so 2^n stays a
 * normal float (e^-87 ≈ 1.6e-38 where the true value is smaller; NaN stays NaN). */
__attribute__((target("avx2,fma")))
static inline __m256 exp_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_set1_ps(88.0f), _mm256_max_ps(_mm256_set1_ps(-87.0f), x));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);  /* ln 2 = 0.693359375 − 2.12194440e-4 */
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* GELU through erfc, so neither tail cancels: with a = |z|/√2,
 * erfc(a) = t·exp(−a² − 1.26551223 + t·P(t)), t = 1/(1 + a/2) (Numerical Recipes' erfcc:
 * relative error < 1.2e-7 for every a ≥ 0), then h = z·erfc(a)/2 and gelu(z) = h for z < 0,
 * z − h otherwise. */
__attribute__((target("avx2,fma")))
static inline __m256 gelu_avx2(__m256 z) {
    __m256 a = _mm256_mul_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), z), _mm256_set1_ps(0.70710678118654752f));
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(a, _mm256_set1_ps(0.5f), _mm256_set1_ps(1.0f)));
    __m256 p = _mm256_set1_ps(0.17087277f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.82215223f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.48851587f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.13520398f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.27886807f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.18628806f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.09678418f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.37409196f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.00002368f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.26551223f));
    /* −a² = −z²/2 from z² split exactly into z2 + z2lo, so a's rounding does not reach it */
    __m256 z2 = _mm256_mul_ps(z, z), z2lo = _mm256_fmsub_ps(z, z, z2), half = _mm256_set1_ps(0.5f);
    __m256 arg = _mm256_fnmadd_ps(half, z2lo, _mm256_fnmadd_ps(half, z2, p));
    __m256 erfc = _mm256_mul_ps(t, exp_avx2(arg));
    __m256 h = _mm256_mul_ps(_mm256_mul_ps(z, _mm256_set1_ps(0.5f)), erfc);
    return _mm256_blendv_ps(h, _mm256_sub_ps(z, h), _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GE_OQ));
}

/* z·sigmoid(1.702 z) = z / (1 + e^(−1.702 z)) */
__attribute__((target("avx2,fma")))
static inline __m256 quick_gelu_avx2(__m256 z) {
    __m256 e = exp_avx2(_mm256_mul_ps(z, _mm256_set1_ps(-1.702f)));
    return _mm256_div_ps(z, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

static const int lane_mask[32] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* A panel is read in chunks of CHUNK_ROWS rows (8 KiB): every row group multiplies the chunk
 * while it is in L1, and the row groups' sums wait in a small scratch between chunks. The next
 * chunk is prefetched meanwhile, a share by each group, so that the memory stays busy through
 * all the passes (all by the first group left it idle while the others computed: stop 19). */
#define CHUNK_ROWS 128

/* An mr × 16 tile over rows k0…k0+kn of one panel: rows x[0…mr) (stride ldx, already offset to
 * k0) times the chunk `w`, added to the sums in `acc` (mr × 16, unless `first`); after the last
 * chunk (`y` non-null) the bias and the epilogue, then y (stride ldy; only `cols` < 16 columns
 * in the last panel). Meanwhile the lines pf, pf + 64, … (pf_count of them) are prefetched.
 * mr is a constant at every call, so the 2·mr accumulators stay in registers (12 of the 16). */
__attribute__((target("avx2,fma"), always_inline))
static inline void tile_avx2(const int mr, const float *x, size_t ldx, const float *w, int kn, const char *pf,
                             int pf_count, float *acc, int first, const float *bias, float *y,
                             size_t ldy, int epilogue, int cols) {
    __m256 a0[6], a1[6];
    for (int i = 0; i < mr; i++) {
        a0[i] = first ? _mm256_setzero_ps() : _mm256_load_ps(acc + i * ENK_PANEL);
        a1[i] = first ? _mm256_setzero_ps() : _mm256_load_ps(acc + i * ENK_PANEL + 8);
    }
    for (int kk = 0; kk < kn; kk++, w += ENK_PANEL) {
        if (kk < pf_count) _mm_prefetch(pf + kk * 64, _MM_HINT_T0);
        __m256 w0 = _mm256_load_ps(w), w1 = _mm256_load_ps(w + 8);
        for (int i = 0; i < mr; i++) {
            __m256 xb = _mm256_broadcast_ss(x + i * ldx + kk);
            a0[i] = _mm256_fmadd_ps(xb, w0, a0[i]);
            a1[i] = _mm256_fmadd_ps(xb, w1, a1[i]);
        }
    }
    if (!y) {
        for (int i = 0; i < mr; i++) {
            _mm256_store_ps(acc + i * ENK_PANEL, a0[i]);
            _mm256_store_ps(acc + i * ENK_PANEL + 8, a1[i]);
        }
        return;
    }
    __m256 b0 = _mm256_load_ps(bias), b1 = _mm256_load_ps(bias + 8);
    __m256i m0 = _mm256_loadu_si256((const __m256i *)(lane_mask + 16 - cols));
    __m256i m1 = _mm256_loadu_si256((const __m256i *)(lane_mask + 24 - cols));
    for (int i = 0; i < mr; i++) {
        __m256 z0 = _mm256_add_ps(a0[i], b0), z1 = _mm256_add_ps(a1[i], b1);
        float *yi = y + i * ldy;
        switch (epilogue) {
        case ENK_GELU: z0 = gelu_avx2(z0); z1 = gelu_avx2(z1); break;
        case ENK_QUICK_GELU: z0 = quick_gelu_avx2(z0); z1 = quick_gelu_avx2(z1); break;
        case ENK_RESIDUAL:
            if (cols == ENK_PANEL) {
                z0 = _mm256_add_ps(_mm256_loadu_ps(yi), z0);
                z1 = _mm256_add_ps(_mm256_loadu_ps(yi + 8), z1);
            } else {
                z0 = _mm256_add_ps(_mm256_maskload_ps(yi, m0), z0);
                z1 = _mm256_add_ps(_mm256_maskload_ps(yi + 8, m1), z1);
            }
            break;
        default: break;
        }
        if (cols == ENK_PANEL) {
            _mm256_storeu_ps(yi, z0);
            _mm256_storeu_ps(yi + 8, z1);
        } else {
            _mm256_maskstore_ps(yi, m0, z0);
            _mm256_maskstore_ps(yi + 8, m1, z1);
        }
    }
}

__attribute__((target("avx2,fma")))
static void tile_any_avx2(int mr, const float *x, size_t ldx, const float *w, int kn, const char *pf, int pf_count,
                          float *acc, int first, const float *bias, float *y, size_t ldy, int epilogue, int cols) {
    switch (mr) {
#define TILE_CASE(m) case m: tile_avx2(m, x, ldx, w, kn, pf, pf_count, acc, first, bias, y, ldy, epilogue, cols); break
    TILE_CASE(1); TILE_CASE(2); TILE_CASE(3); TILE_CASE(4); TILE_CASE(5);
    default: TILE_CASE(6);
    }
}

__attribute__((target("avx2,fma")))
static void linear_share_avx2(const enk_linear *j, int share, int shares) {
    int p0, p1;
    panel_range(j, share, shares, &p0, &p1);
    int groups = group_count(j->rows);
    float scratch[ENK_MAX_ROWS * ENK_PANEL] __attribute__((aligned(64)));
    for (int p = p0; p < p1; p++) {
        const float *panel = j->panels + (size_t)p * j->k * ENK_PANEL;
        int cols = j->n - p * ENK_PANEL < ENK_PANEL ? j->n - p * ENK_PANEL : ENK_PANEL;
        for (int k0 = 0; k0 < j->k; k0 += CHUNK_ROWS) {
            int kn = j->k - k0 < CHUNK_ROWS ? j->k - k0 : CHUNK_ROWS;
            int last = k0 + kn == j->k;
            for (int g = 0; g < groups; g++) {
                int r0 = group_start(j->rows, groups, g), mr = group_start(j->rows, groups, g + 1) - r0;
                const float *x = j->x + (size_t)r0 * j->k + k0;
                float *y = last ? j->y + (size_t)r0 * j->n + p * ENK_PANEL : NULL;
                /* Group g prefetches its share of the CHUNK_ROWS lines after this chunk (the
                 * panel's next chunk, or the next panel's first: panels are back to back). */
                const float *chunk = panel + (size_t)k0 * ENK_PANEL;
                const char *next = (const char *)(chunk + (size_t)kn * ENK_PANEL);
                int from = CHUNK_ROWS * g / groups, lines = CHUNK_ROWS * (g + 1) / groups - from;
                tile_any_avx2(mr, x, (size_t)j->k, chunk, kn, next + (size_t)from * 64, lines,
                              scratch + r0 * ENK_PANEL, k0 == 0, j->bias + p * ENK_PANEL, y, (size_t)j->n, j->epilogue, cols);
            }
        }
    }
}

__attribute__((target("avx2,fma")))
static void gelu_avx2_n(float *v, size_t n, int quick) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 z = _mm256_loadu_ps(v + i);
        _mm256_storeu_ps(v + i, quick ? quick_gelu_avx2(z) : gelu_avx2(z));
    }
    if (i < n) {
        __m256i m = _mm256_loadu_si256((const __m256i *)(lane_mask + 16 - (n - i)));
        __m256 z = _mm256_maskload_ps(v + i, m);
        _mm256_maskstore_ps(v + i, m, quick ? quick_gelu_avx2(z) : gelu_avx2(z));
    }
}

/* ---- dispatch ---- */

static int level(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
    }
    return cached;
}

void enk_linear_share(const enk_linear *job, int share, int shares) {
    if (level() != 1) {
        enk_linear_share_generic(job, share, shares);
        return;
    }
    /* The AVX2 kernel's scratch holds ENK_MAX_ROWS rows: more rows go through in blocks. */
    for (int r0 = 0; r0 < job->rows; r0 += ENK_MAX_ROWS) {
        enk_linear part = *job;
        part.x += (size_t)r0 * job->k;
        part.y += (size_t)r0 * job->n;
        part.rows = job->rows - r0 < ENK_MAX_ROWS ? job->rows - r0 : ENK_MAX_ROWS;
        linear_share_avx2(&part, share, shares);
    }
}

static void run_share(void *job) { enk_linear_share(job, omp_get_thread_num(), omp_get_num_threads()); }

void enk_linear_run(const enk_linear *job, int threads) {
    if (threads == 1 || job->n <= ENK_PANEL) {
        enk_linear_share(job, 0, 1);
        return;
    }
    GOMP_parallel(run_share, (void *)job, threads > 0 ? (unsigned)threads : 0, 0);
}

void enk_gelu(float *v, size_t n) {
    if (level() == 1) { gelu_avx2_n(v, n, 0); return; }
    for (size_t i = 0; i < n; i++) v[i] = gelu1(v[i]);
}

void enk_quick_gelu(float *v, size_t n) {
    if (level() == 1) { gelu_avx2_n(v, n, 1); return; }
    for (size_t i = 0; i < n; i++) v[i] = quick_gelu1(v[i]);
}

const char *enk_kernel_name(void) { return level() == 1 ? "avx2" : "generic"; }
