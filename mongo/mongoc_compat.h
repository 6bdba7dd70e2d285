/* SPDX-License-Identifier: MIT */
/*
 * The one place that includes libmongoc and libbson, for either the 1.x
 * (libmongoc-1.0/libbson-1.0) or the 2.x (mongoc2/bson2) packages; only
 * files in mongo/ include this header. Everything used from them here is
 * API present in both series.
 */
#ifndef NSC_MONGO_MONGOC_COMPAT_H
#define NSC_MONGO_MONGOC_COMPAT_H

#ifdef HAVE_MONGOC2
#include <bson/bson.h>
#include <mongoc/mongoc.h>
#else
#include <bson.h>
#include <mongoc.h>
#endif

#endif
