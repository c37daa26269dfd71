/*
 * The run as one JSON document (--json), for scripts and monitoring: the
 * summary, the counts, the IM domains, the files written and the first
 * findings of each code, gathered during the run and formatted by
 * json_document.c. docs/json.md is its schema.
 */
#ifndef IMADDR_SINK_JSON_H
#define IMADDR_SINK_JSON_H

#include "imaddr.h"

#endif /* IMADDR_SINK_JSON_H */
