#ifndef CGSL_SHIM_H
#define CGSL_SHIM_H
/* OpenBLAS's cblas.h first, then keep GSL's own CBLAS declarations out: the two
   declare CBLAS enums differently, and only OpenBLAS's CBLAS is linked. */
#include <cblas.h>
#define __GSL_CBLAS_H__
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_log.h>
#include <gsl/gsl_sf_gamma.h>

/* Swift 6 rejects C globals as not concurrency-safe: expose them through accessors. */
static inline const gsl_rng_type *cgsl_rng_mt19937(void) { return gsl_rng_mt19937; }

/* GSL's default error handler aborts the process; library code reports errors instead. */
static inline void cgsl_disable_abort_on_error(void) { gsl_set_error_handler_off(); }
#endif
