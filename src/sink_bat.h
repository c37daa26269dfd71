/*
 * The BAT "Update Users" custom file: USER ID,DIRECTORY URI for every user
 * whose directory URI is valid and who has no error, in canonical form.
 * docs/bat.md says how to import it.
 */
#ifndef IMADDR_SINK_BAT_H
#define IMADDR_SINK_BAT_H

#include <stdbool.h>

#include "imaddr.h"

#define IMADDR_BAT_HEADER "USER ID,DIRECTORY URI"

struct imaddr_buf;

/**
 * What a BAT file at `path` writes (freed by the caller): `path` itself,
 * or with chunks its directory, `path` without its extension
 * ("out/fix.csv" -> "out/fix").
 */
char *imaddr_bat_target(const char *path, bool chunked);

/**
 * Appends "-" and a cluster's name as part of a file name: what is not
 * [A-Za-z0-9._-] becomes '_' ("west/EU" as "-west_EU").
 */
void imaddr_bat_append_cluster(struct imaddr_buf *name, const char *cluster);

/**
 * Whether two clusters' names are different but would name the same BAT
 * files, on this file system or on Windows ("west/EU" and "west_EU", "east"
 * and "East").
 */
bool imaddr_bat_clusters_clash(const char *a, const char *b);

#endif /* IMADDR_SINK_BAT_H */
