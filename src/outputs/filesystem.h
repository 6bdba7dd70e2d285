/* SPDX-License-Identifier: MIT */
/*
 * The filesystem output (CONNECT_OUTPUT=filesystem): one JSON-lines file
 * per collection, <CONNECT_OUTPUT_DIR>/<collection>.jsonl, appended with
 * one write and an fdatasync per batch. Idempotent by `identifier`; a line
 * torn by a crash is cut off when the output opens.
 */
#ifndef NSC_SRC_OUTPUTS_FILESYSTEM_H
#define NSC_SRC_OUTPUTS_FILESYSTEM_H

#include "output.h"

extern const struct nsc_output_driver nsc_output_filesystem;

#endif
