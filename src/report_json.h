/*
 * The JSON document of a run read back from the SQLite report (imaddr report
 * --json): json_document.c's, from the run report_read.c reads, as the
 * audit's --json wrote it but for the files the other outputs wrote, which
 * the report does not keep. Declared in imaddr.h (imaddr_report_write_json).
 */
#ifndef IMADDR_REPORT_JSON_H
#define IMADDR_REPORT_JSON_H

#include "imaddr.h"

#endif /* IMADDR_REPORT_JSON_H */
