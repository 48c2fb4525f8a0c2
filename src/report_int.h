/* report_int.h - the report site model, for report_db.c: see site.h. */
#ifndef RDM_REPORT_INT_H
#define RDM_REPORT_INT_H

#include "site.h"

#endif
