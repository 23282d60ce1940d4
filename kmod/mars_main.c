// SPDX-License-Identifier: GPL-2.0-only
/*
 * mars.ko: the kernel half of MARS, asynchronous block-device
 * replication.  The primary logs every write to /dev/mars/<res> into a
 * transaction logfile under /mars; secondaries replay fetched logfiles.
 *
 * This file only registers and unregisters the parts.  Everything with a
 * job lives in its own file:
 *   mars_ctl.c       the control device /dev/mars-control (the ABI is
 *                    include/mars/ctl.h, the spec docs/kernel-interface.md)
 *   mars_res.c       attached resources and their modes; mars.h lists the
 *                    files of the data path (device, logger, replay)
 *   mars_selftest.c  load-time self-test of the shared record core
 *   ../libmars/      the record codec and scanner, the very same source
 *                    userspace compiles (linked in by Kbuild)
 *
 * Failure policy: a failed self-test does not fail the load, so that the
 * result can be read back; requests that would write or replay logfiles
 * are refused with -EIO while it stands.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "mars/ctl.h"
#include "mars/logrec.h"
#include "mars.h"

static int __init
mars_init(void)
{
	int ret;

	ret = mars_ctl_register();
	if (ret)
		return ret;
	pr_info("version %s loaded, control interface %u.%u, log format %u\n",
		MARS_VERSION, MARS_CTL_IFACE_MAJOR, MARS_CTL_IFACE_MINOR,
		MARS_REC_VERSION);
	return 0;
}

static void __exit
mars_exit(void)
{
	mars_ctl_unregister();
	mars_res_detach_all();
	pr_info("unloaded\n");
}

module_init(mars_init);
module_exit(mars_exit);

MODULE_DESCRIPTION("MARS asynchronous block-device replication");
MODULE_LICENSE("GPL");
MODULE_VERSION(MARS_VERSION);
