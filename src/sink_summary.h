/* The text summary printed at the end of a run. */
#ifndef IMADDR_SINK_SUMMARY_H
#define IMADDR_SINK_SUMMARY_H

#include "imaddr.h"

/* How many findings of each error code the summary shows. */
#define IMADDR_SUMMARY_EXAMPLES 3
/* How many IM address changes a pre-migration summary shows. */
#define IMADDR_SUMMARY_CHANGES 10

#endif /* IMADDR_SINK_SUMMARY_H */
