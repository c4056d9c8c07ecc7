// oneDNN (Debian libdnnl-dev 2.6.x, 2.x C API) for EmbedNN, the only importer.
#include <dnnl.h>

// Debian's libdnnl is built with the GNU OpenMP runtime; its thread count is set through
// libgomp's API on the thread that calls oneDNN (the ICV is per thread). omp.h lives in gcc's
// private include dir, so the two functions used are declared here instead.
int omp_get_max_threads(void);
void omp_set_num_threads(int num_threads);
