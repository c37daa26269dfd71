/*
 * The worklist (--worklist): one row per finding with the user's cluster,
 * line, user ID, DN and name, for the people who fix them, as a spreadsheet
 * (.xlsx, libxlsxwriter: bold frozen header, autofilter) or a CSV that Excel
 * opens as UTF-8 (a BOM) and that never runs a formula.
 */
#ifndef IMADDR_SINK_WORKLIST_H
#define IMADDR_SINK_WORKLIST_H

#include "imaddr.h"

#endif /* IMADDR_SINK_WORKLIST_H */
