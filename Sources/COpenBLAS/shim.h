#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
#include <stddef.h>
#include <cblas.h>

/* LAPACK's Fortran interface, which OpenBLAS exports (column-major; every argument by
 * reference; each character argument followed by its hidden length, as gfortran passes it). */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda, double *b,
             const int *ldb, int *info, size_t uplo_len);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);
void dgetrs_(const char *trans, const int *n, const int *nrhs, const double *a, const int *lda, const int *ipiv,
             double *b, const int *ldb, int *info, size_t trans_len);

#endif
