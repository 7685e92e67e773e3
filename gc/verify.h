/* gc/verify.h: the checkmark (gc/verify.c). */
#ifndef TC_GC_VERIFY_H
#define TC_GC_VERIFY_H

#include "alloc/base.h"

TC_INTERNAL void tc_checkmark(void); /* world stopped, marking done */

#endif
