/* The table of finding codes: names, severities and one-line summaries. */
#ifndef IMADDR_CODES_H
#define IMADDR_CODES_H

#include "imaddr.h"

#endif /* IMADDR_CODES_H */
