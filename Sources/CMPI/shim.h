// MPI through its C interface (Open MPI or MPICH; pkg-config "mpi"). The handles that
// mpi.h defines as macros are wrapped in functions Swift can call.
#include <mpi.h>

static inline MPI_Comm drmm_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype drmm_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype drmm_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype drmm_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype drmm_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op drmm_mpi_sum(void) { return MPI_SUM; }
static inline void *drmm_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler drmm_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int drmm_mpi_success(void) { return MPI_SUCCESS; }
static inline int drmm_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int drmm_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
