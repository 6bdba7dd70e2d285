/* SPDX-License-Identifier: MIT */
/* The output drivers this build has in libnsconnect, by configured kind. */
#include "config.h"

#include <stddef.h>

#include "output.h"
#include "outputs/filesystem.h"

const struct nsc_output_driver *nsc_output_driver_for(enum nsc_output_kind kind)
{
	switch (kind) {
	case NSC_OUTPUT_FILESYSTEM:
		return &nsc_output_filesystem;
	case NSC_OUTPUT_AUTO:
	case NSC_OUTPUT_MONGO:
	case NSC_OUTPUT_REST:
	case NSC_OUTPUT_REST3:
		break;
	}
	return NULL;
}
