/* The table of finding codes: names, severities and one-line summaries. */
#ifndef IMADDR_FINDING_H
#define IMADDR_FINDING_H

#include "imaddr.h"

#endif /* IMADDR_FINDING_H */
