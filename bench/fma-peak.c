// The machine's fp32 peak, measured: every core runs independent AVX2 FMA chains (12 per
// thread, enough to cover FMA latency × throughput on Zen and Intel cores) and the achieved
// FLOP/s is printed as JSON (an FMA counts 2 FLOP). bench/image-net compiles and runs it.
//
//   cc -O3 -mavx2 -mfma -fopenmp bench/fma-peak.c -o fma-peak && OMP_NUM_THREADS=2 ./fma-peak
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    const long iterations = 200000000;
    double best = 0;
    float sink = 0;
    for (int rep = 0; rep < 3; rep++) {
        double start = now();
        #pragma omp parallel reduction(+ : sink)
        {
            __m256 a[12];
            for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
            const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
            for (long n = 0; n < iterations / 12; n++) {
                for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
            }
            float out[8];
            __m256 s = a[0];
            for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, a[i]);
            _mm256_storeu_ps(out, s);
            sink += out[0];
        }
        double seconds = now() - start;
        double flops = 2.0 * 8 * (iterations / 12) * 12 * omp_get_max_threads();
        if (flops / seconds > best) best = flops / seconds;
    }
    printf("{\"threads\": %d, \"peak_gflops\": %.1f, \"sink\": %g}\n", omp_get_max_threads(), best / 1e9, sink);
    return 0;
}
