/*
 * The HTML report of the run in progress (audit --html): the page of
 * html_report.c, its rows kept in temporary files until the counts that
 * head it are known.
 */
#ifndef IMADDR_SINK_HTML_H
#define IMADDR_SINK_HTML_H

#include "imaddr.h"

#endif /* IMADDR_SINK_HTML_H */
