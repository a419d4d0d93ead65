// Calls the function params.patch exports: it exists only while the live
// patch module lp_params (which exports it) is loaded.
#include <linux/module.h>

int graft_constructs_answer(void);

static int __init graft_export_user_init(void)
{
	pr_info("graft-constructs: the patch's export answers %d\n", graft_constructs_answer());
	return 0;
}

static void __exit graft_export_user_exit(void)
{
}

module_init(graft_export_user_init);
module_exit(graft_export_user_exit);
MODULE_LICENSE("GPL");
