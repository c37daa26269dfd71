/*
 * The SQLite report as a sink: a run's users, findings and totals written
 * into one transaction, opened with imaddr_report_db_open()
 * (include/imaddr.h). The file, its schema and the connection's settings
 * are report_schema.c's, the inserts report_rows.c's, the comparison with
 * the previous run report_changes.c's; docs/report-schema.md describes the
 * tables, indexes and views.
 */
#ifndef IMADDR_SINK_REPORT_H
#define IMADDR_SINK_REPORT_H

#include "imaddr.h"

#endif /* IMADDR_SINK_REPORT_H */
