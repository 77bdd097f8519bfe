#ifndef CLAPACKE_SHIM_H
#define CLAPACKE_SHIM_H
#include <lapacke.h>
#endif
