// SPDX-License-Identifier: GPL-2.0
// A module that holds a live object for the tests of the fix author's API
// (tests/e2e/kernel_author_api.sh): a struct note allocated when the module
// loads and shown by /proc/graft_fixture_note. Its layout cannot change
// under a live patch, so the fixes in the .patch files beside this file
// attach their state to it with shadow variables and set it up and tear it
// down in livepatch callbacks. The note_frozen parameter is what a fix's
// pre-patch callback checks before it lets itself be applied.
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

struct note {
	int id;
	char text[32];
};

static struct note *the_note;

static bool note_frozen;
module_param(note_frozen, bool, 0644);
MODULE_PARM_DESC(note_frozen, "the note must not change (a fix's pre-patch callback checks it)");

static noinline const char *note_greeting(void)
{
	return "hello";
}

static noinline int note_show(struct seq_file *m, void *v)
{
	seq_printf(m, "note %d: %s\n", the_note->id, the_note->text);
	return 0;
}

static int __init note_init(void)
{
	the_note = kzalloc(sizeof(*the_note), GFP_KERNEL);
	if (!the_note)
		return -ENOMEM;
	the_note->id = 1;
	strscpy(the_note->text, note_greeting(), sizeof(the_note->text));
	if (!proc_create_single("graft_fixture_note", 0444, NULL, note_show)) {
		kfree(the_note);
		return -ENOMEM;
	}
	return 0;
}

static void __exit note_exit(void)
{
	remove_proc_entry("graft_fixture_note", NULL);
	kfree(the_note);
}

module_init(note_init);
module_exit(note_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("graft test fixture: a live object for shadow variables and callbacks");
