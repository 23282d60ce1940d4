// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control device /dev/mars-control: versioned ioctls for clusterd and
 * marsadm, plus read-only sysfs attributes for people.
 *
 * Why a misc device with ioctls (docs/kernel-interface.md has the long
 * form): each request is one system call that succeeds or fails as a
 * whole with an errno, arguments are fixed-layout structs shared through
 * include/mars/ctl.h, and open file descriptors pin the module, so it
 * cannot be unloaded under a client.  sysfs mirrors the read-only facts
 * so that they can be read with cat.
 *
 * Requests are dispatched through one table indexed by ioctl number.
 * The table records each argument's current and first published size;
 * mars_ctl_ioctl() does all copying and size negotiation, so a handler
 * only sees a zero-extended struct of the current layout.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/uaccess.h>

#include "mars/ctl.h"
#include "mars/logrec.h"
#include "mars.h"

struct mars_ctl {
	struct miscdevice misc;
	struct mutex lock;		/* guards selftest */
	struct mars_selftest_report selftest;
};

static struct mars_ctl mars_ctl;

union mars_ctl_arg {
	struct mars_ctl_version version;
	struct mars_ctl_selftest selftest;
	struct mars_ctl_attach attach;
	struct mars_ctl_res res;
	struct mars_ctl_primary primary;
	struct mars_ctl_replay replay;
	struct mars_ctl_status status;
};

struct mars_ctl_op {
	unsigned int ksize;		/* size of the current layout */
	unsigned int min_size;		/* size of the first published one */
	int (*fn)(union mars_ctl_arg *arg);
};

/* ---- state --------------------------------------------------------- */

static void
mars_ctl_selftest_get(struct mars_selftest_report *rep)
{
	mutex_lock(&mars_ctl.lock);
	*rep = mars_ctl.selftest;
	mutex_unlock(&mars_ctl.lock);
}

static void
mars_ctl_selftest_rerun(void)
{
	struct mars_selftest_report rep;
	ktime_t start = ktime_get();

	mars_selftest_run(&rep);
	if (rep.result)
		pr_err("record core self-test failed: %d (%s)\n", rep.result,
		       rep.first_failure ? rep.first_failure : "no buffer");
	else
		pr_info("record core self-test passed, %u checks in %lld us\n",
			rep.checks_run, ktime_us_delta(ktime_get(), start));
	mutex_lock(&mars_ctl.lock);
	mars_ctl.selftest = rep;
	mutex_unlock(&mars_ctl.lock);
}

bool
mars_ctl_selftest_ok(void)
{
	struct mars_selftest_report rep;

	mars_ctl_selftest_get(&rep);
	return !rep.result;
}

/* ---- ioctl handlers ---------------------------------------------- */

static int
mars_ctl_version(union mars_ctl_arg *arg)
{
	struct mars_ctl_version *v = &arg->version;

	if (v->flags)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->iface_major = MARS_CTL_IFACE_MAJOR;
	v->iface_minor = MARS_CTL_IFACE_MINOR;
	v->format_version = MARS_REC_VERSION;
	v->max_payload_bytes = MARS_REC_MAX_PAYLOAD;
	strscpy(v->module_version, MARS_VERSION, sizeof(v->module_version));
	return 0;
}

static int
mars_ctl_selftest(union mars_ctl_arg *arg)
{
	struct mars_ctl_selftest *st = &arg->selftest;
	struct mars_selftest_report rep;
	u32 flags = st->flags;

	if (flags & ~MARS_CTL_SELFTEST_F_KNOWN)
		return -EINVAL;
	if (flags & MARS_CTL_SELFTEST_F_RUN)
		mars_ctl_selftest_rerun();
	mars_ctl_selftest_get(&rep);

	memset(st, 0, sizeof(*st));
	st->flags = flags;
	st->result = rep.result;
	st->checks_run = rep.checks_run;
	st->checks_failed = rep.checks_failed;
	if (rep.first_failure)
		strscpy(st->first_failure, rep.first_failure,
			sizeof(st->first_failure));
	return 0;
}

static int
mars_ctl_attach(union mars_ctl_arg *arg)
{
	return mars_res_attach(&arg->attach);
}

/* DETACH and ROTATE name a resource and nothing else. */
static int
mars_ctl_res_check(const struct mars_ctl_res *r)
{
	return r->flags || r->reserved ? -EINVAL : 0;
}

static int
mars_ctl_detach(union mars_ctl_arg *arg)
{
	return mars_ctl_res_check(&arg->res) ?:
	       mars_res_detach(arg->res.resource);
}

static int
mars_ctl_rotate(union mars_ctl_arg *arg)
{
	return mars_ctl_res_check(&arg->res) ?:
	       mars_res_rotate(arg->res.resource);
}

static int
mars_ctl_set_primary(union mars_ctl_arg *arg)
{
	return mars_res_set_primary(&arg->primary);
}

static int
mars_ctl_set_replay(union mars_ctl_arg *arg)
{
	return mars_res_set_replay(&arg->replay);
}

static int
mars_ctl_status(union mars_ctl_arg *arg)
{
	return mars_res_status(&arg->status);
}

#define MARS_CTL_OP(nr, type, v1, handler)			\
	[nr] = {						\
		.ksize = sizeof(struct type),			\
		.min_size = v1,					\
		.fn = handler,					\
	}

static const struct mars_ctl_op mars_ctl_ops[] = {
	[MARS_CTL_NR_VERSION] = {
		.ksize = sizeof(struct mars_ctl_version),
		.min_size = MARS_CTL_VERSION_SIZE_V1,
		.fn = mars_ctl_version,
	},
	[MARS_CTL_NR_SELFTEST] = {
		.ksize = sizeof(struct mars_ctl_selftest),
		.min_size = MARS_CTL_SELFTEST_SIZE_V1,
		.fn = mars_ctl_selftest,
	},
	MARS_CTL_OP(MARS_CTL_NR_ATTACH, mars_ctl_attach,
		    MARS_CTL_ATTACH_SIZE_V1, mars_ctl_attach),
	MARS_CTL_OP(MARS_CTL_NR_DETACH, mars_ctl_res,
		    MARS_CTL_RES_SIZE_V1, mars_ctl_detach),
	MARS_CTL_OP(MARS_CTL_NR_SET_PRIMARY, mars_ctl_primary,
		    MARS_CTL_PRIMARY_SIZE_V1, mars_ctl_set_primary),
	MARS_CTL_OP(MARS_CTL_NR_SET_REPLAY, mars_ctl_replay,
		    MARS_CTL_REPLAY_SIZE_V1, mars_ctl_set_replay),
	MARS_CTL_OP(MARS_CTL_NR_ROTATE, mars_ctl_res,
		    MARS_CTL_RES_SIZE_V1, mars_ctl_rotate),
	MARS_CTL_OP(MARS_CTL_NR_STATUS, mars_ctl_status,
		    MARS_CTL_STATUS_SIZE_V1, mars_ctl_status),
};

static long
mars_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
{
	void __user *uptr = (void __user *)uarg;
	size_t usize = _IOC_SIZE(cmd);
	unsigned int nr = _IOC_NR(cmd);
	const struct mars_ctl_op *op;
	union mars_ctl_arg arg;
	int ret;

	if (_IOC_TYPE(cmd) != MARS_CTL_IOC_TYPE ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE) ||
	    nr >= ARRAY_SIZE(mars_ctl_ops))
		return -ENOTTY;
	op = &mars_ctl_ops[array_index_nospec(nr, ARRAY_SIZE(mars_ctl_ops))];
	if (!op->fn)
		return -ENOTTY;
	if (usize < op->min_size)
		return -EINVAL;

	/* Zero-extends a short struct; -E2BIG if unknown bytes are set. */
	ret = copy_struct_from_user(&arg, op->ksize, uptr, usize);
	if (ret)
		return ret;
	ret = op->fn(&arg);
	if (ret)
		return ret;
	if (copy_to_user(uptr, &arg, min_t(size_t, usize, op->ksize)))
		return -EFAULT;
	return 0;
}

static const struct file_operations mars_ctl_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = mars_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* ---- sysfs: /sys/class/misc/mars-control/ -------------------------- */

static ssize_t
interface_version_show(struct device *dev, struct device_attribute *attr,
		       char *buf)
{
	return sysfs_emit(buf, "%u.%u\n", MARS_CTL_IFACE_MAJOR,
			  MARS_CTL_IFACE_MINOR);
}
static DEVICE_ATTR_RO(interface_version);

static ssize_t
format_version_show(struct device *dev, struct device_attribute *attr,
		    char *buf)
{
	return sysfs_emit(buf, "%u\n", MARS_REC_VERSION);
}
static DEVICE_ATTR_RO(format_version);

/* "pass <checks>" or "fail <errno> <first failed check>" */
static ssize_t
selftest_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct mars_selftest_report rep;

	mars_ctl_selftest_get(&rep);
	if (!rep.result)
		return sysfs_emit(buf, "pass %u\n", rep.checks_run);
	return sysfs_emit(buf, "fail %d %s\n", rep.result,
			  rep.first_failure ? rep.first_failure : "-");
}
static DEVICE_ATTR_RO(selftest);

static struct attribute *mars_ctl_attrs[] = {
	&dev_attr_interface_version.attr,
	&dev_attr_format_version.attr,
	&dev_attr_selftest.attr,
	NULL,
};
ATTRIBUTE_GROUPS(mars_ctl);

/* ---- registration ------------------------------------------------- */

int
mars_ctl_register(void)
{
	int ret;

	mutex_init(&mars_ctl.lock);
	mars_ctl_selftest_rerun();

	mars_ctl.misc.minor = MISC_DYNAMIC_MINOR;
	mars_ctl.misc.name = MARS_CTL_DEVICE_NAME;
	mars_ctl.misc.fops = &mars_ctl_fops;
	mars_ctl.misc.groups = mars_ctl_groups;
	mars_ctl.misc.mode = 0600;
	ret = misc_register(&mars_ctl.misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", MARS_CTL_DEVICE_NAME,
		       ret);
		goto out_destroy_lock;
	}
	return 0;

out_destroy_lock:
	mutex_destroy(&mars_ctl.lock);
	return ret;
}

void
mars_ctl_unregister(void)
{
	misc_deregister(&mars_ctl.misc);
	mutex_destroy(&mars_ctl.lock);
}
