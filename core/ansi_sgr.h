/* Internal to the output parser (core/ansi.c): SGR parameters applied to a style. */
#ifndef BRUM_CORE_ANSI_SGR_H
#define BRUM_CORE_ANSI_SGR_H

#include <stdbool.h>

#include "core/style.h"

/* v[0..nv) are the parameters of one `CSI ... m` (-1: omitted); colon[i] says v[i] followed a
 * colon (a subparameter of the value before it). Unknown or malformed codes are ignored, as a
 * terminal does. */
void ansi_sgr(Style* st, const int* v, const bool* colon, int nv);

#endif
