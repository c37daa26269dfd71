/*
 * The HTML report of a run read back from the SQLite report (imaddr report
 * --html): the page of html_report.c, from the run report_read.c reads.
 * Declared in imaddr.h (imaddr_report_write_html).
 */
#ifndef IMADDR_REPORT_HTML_H
#define IMADDR_REPORT_HTML_H

#include "imaddr.h"

#endif /* IMADDR_REPORT_HTML_H */
