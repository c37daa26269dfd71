/*
 * Fixes for the directory team (--ldif-fixes): an LDIF of changetype: modify
 * records, one per user that LDAP sync owns whose directory URI source is
 * valid but not canonical, replacing that one attribute. Duplicates are
 * never fixed here: which of two users is right is a person's decision.
 */
#ifndef IMADDR_SINK_LDIF_FIXES_H
#define IMADDR_SINK_LDIF_FIXES_H

#include "imaddr.h"

#endif /* IMADDR_SINK_LDIF_FIXES_H */
