/* The text summary printed at the end of a run. */
#ifndef IMADDR_SINK_SUMMARY_H
#define IMADDR_SINK_SUMMARY_H

#include "imaddr.h"

/* How many findings of each error and warning code the summary shows. */
#define IMADDR_SUMMARY_EXAMPLES 3
/* How many sets of duplicate users it shows, and members of each. */
#define IMADDR_SUMMARY_GROUPS 5
#define IMADDR_SUMMARY_MEMBERS 5
/* How many IM address changes a pre-migration summary shows. */
#define IMADDR_SUMMARY_CHANGES 10

#endif /* IMADDR_SINK_SUMMARY_H */
