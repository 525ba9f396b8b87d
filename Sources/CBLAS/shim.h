// OpenBLAS's CBLAS interface (Debian: libopenblas-dev puts cblas.h on the multiarch include path).
#include <cblas.h>
// OpenBLAS extension, declared here so the module needs no OpenBLAS-specific header path.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
