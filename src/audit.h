/*
 * The audit: checks each record as it streams past, spools the user, and
 * after the last record resolves duplicates and run-level findings, then
 * ends every sink.
 */
#ifndef IMADDR_AUDIT_H
#define IMADDR_AUDIT_H

#include "address.h"
#include "dupindex.h"
#include "imaddr.h"
#include "reader.h"
#include "strmap.h"
#include "userstore.h"

/* Cisco's Expressway guidance: at most this many IM domains. */
#define IMADDR_AUDIT_MAX_DOMAINS 75

#endif /* IMADDR_AUDIT_H */
