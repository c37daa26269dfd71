/*
 * The worklist of a run read back from the SQLite report (imaddr report
 * --worklist): worklist_writer.c's rows from the findings report_read.c
 * reads, as the audit's --worklist wrote them. Declared in imaddr.h
 * (imaddr_report_write_worklist).
 */
#ifndef IMADDR_REPORT_WORKLIST_H
#define IMADDR_REPORT_WORKLIST_H

#include "imaddr.h"

#endif /* IMADDR_REPORT_WORKLIST_H */
