/*
 * The BAT "Update Users" custom file: USER ID,DIRECTORY URI for every user
 * whose directory URI is valid and who has no error, in canonical form.
 * docs/bat.md says how to import it.
 */
#ifndef IMADDR_SINK_BAT_H
#define IMADDR_SINK_BAT_H

#include "imaddr.h"

#define IMADDR_BAT_HEADER "USER ID,DIRECTORY URI"

#endif /* IMADDR_SINK_BAT_H */
