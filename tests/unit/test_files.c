/*
 * test_files - the pieces pipeline takes from common/ (issue 13): output
 * names (files.c), sorting a stage's stderr (stagelog.c), the program that
 * undoes each stage kind (stages.c) and a stage's command line (step.c).
 */
#include <stdio.h>
#include <string.h>

#include "files.h"
#include "stagelog.h"
#include "stages.h"
#include "step.h"
#include "unit.h"

static void
restore_is(const char *input, int use_name, const char *stored,
           const char *want)
{
	struct pfs_names nm = { input, NULL, 0, use_name, 0 };
	static struct pfs_head h;
	struct pfs_err e;
	char out[512];

	memset(&h, 0, sizeof(h));
	if (stored) {
		snprintf(h.name, sizeof(h.name), "%s", stored);
		h.namelen = (uint16_t)strlen(stored);
	}
	if (pfs_restore_name(&nm, &h, out, sizeof(out), &e) != 0)
		fail_msg("%s: %s", input, e.msg);
	assert_string_equal(out, want);
}

static void
test_restore_names(void **state)
{
	(void)state;
	restore_is("a.bin.pfs", 0, NULL, "a.bin");
	restore_is("d/a.bin.pfs", 0, NULL, "d/a.bin");
	restore_is("-x.pfs", 0, NULL, "./-x");
	restore_is("d/a.pfs", 1, "orig.txt", "d/orig.txt");
	restore_is("a.pfs", 1, "-o", "./-o");
	restore_is("a.pfs", 1, NULL, "a");
}

static void
test_restore_refusals(void **state)
{
	struct pfs_names nm = { "a.bin", NULL, 0, 0, 0 };
	static struct pfs_head h;
	struct pfs_err e;
	char out[512];

	(void)state;
	assert_int_equal(pfs_restore_name(&nm, &h, out, sizeof(out), &e), -1);
	assert_string_equal(e.msg, "a.bin: unknown suffix (expected NAME.pfs): "
	                    "use -o OUT, or -N for the name stored in the "
	                    "stream");
	nm.input = "a.pfs";
	nm.use_name = 1;
	snprintf(h.name, sizeof(h.name), ".hidden");
	h.namelen = 7;
	assert_int_equal(pfs_restore_name(&nm, &h, out, sizeof(out), &e), -1);
	assert_contains(e.msg, "starts with '.'");
}

static void
test_process_and_outdir(void **state)
{
	struct pfs_names nm = { "d/a.bin", NULL, 0, 0, 0 };
	struct pfs_err e;
	char out[512];

	(void)state;
	assert_int_equal(pfs_process_name(&nm, out, sizeof(out), &e), 0);
	assert_string_equal(out, "d/a.bin.pfs");
	nm.outdir = "o";
	assert_int_equal(pfs_process_name(&nm, out, sizeof(out), &e), 0);
	assert_string_equal(out, "o/a.bin.pfs");
	nm.mirror = 1;
	nm.input = "../a.bin";
	assert_int_equal(pfs_process_name(&nm, out, sizeof(out), &e), -1);
	assert_string_equal(e.msg, "../a.bin: --output-dir-mirror: a path with "
	                    "'..' would leave o");
	/* "./a.bin" and "/a.bin" have no directory under o: o/a.bin.pfs */
	nm.dry_run = 1;
	nm.input = "./a.bin";
	assert_int_equal(pfs_process_name(&nm, out, sizeof(out), &e), 0);
	assert_string_equal(out, "o/a.bin.pfs");
	nm.input = "./d/a.bin";
	assert_int_equal(pfs_process_name(&nm, out, sizeof(out), &e), 0);
	assert_string_equal(out, "o/d/a.bin.pfs");
	assert_null(pfs_mirror_path("/./a.bin"));
	assert_string_equal(pfs_mirror_path("/./d/a.bin"), "d/a.bin");
	assert_int_equal(pfs_has_pfs_suffix("x.pfs"), 1);
	assert_int_equal(pfs_has_pfs_suffix(".pfs"), 0);
	assert_int_equal(pfs_has_pfs_suffix("x.pfsx"), 0);
}

static void
test_stagelog(void **state)
{
	static struct pfs_stagelog l;
	static const char stats[] = "{\"tool\":\"phash\",\"frames\":1}\n";
	static const char msg[] = "pencrypt: stdin: wrong key\n";
	size_t n, skip;

	(void)state;
	assert_int_equal(pfs_stagelog_add(&l, stats, sizeof(stats) - 1, 0),
	                 PFS_LINE_STATS);
	assert_string_equal(l.json, "{\"tool\":\"phash\",\"frames\":1}");
	assert_int_equal(pfs_stagelog_add(&l, "\rx", 2, 0), PFS_LINE_PROGRESS);
	assert_int_equal(pfs_stagelog_add(&l, "\n", 1, 1), PFS_LINE_PROGRESS);
	assert_int_equal(pfs_stagelog_add(&l, msg, sizeof(msg) - 1, 0),
	                 PFS_LINE_KEPT);
	assert_int_equal(pfs_stagelog_add(&l, "last", 4, 0), PFS_LINE_KEPT);
	n = pfs_stagelog_line(&l, 0, "pencrypt", &skip);
	assert_int_equal(n, sizeof(msg) - 1);
	assert_int_equal(skip, strlen("pencrypt: stdin: "));
	n = pfs_stagelog_line(&l, n, "pencrypt", &skip);
	assert_int_equal(n, 4);
	assert_int_equal(skip, 0);
	assert_int_equal(pfs_stagelog_line(&l, l.msglen, NULL, &skip), 0);
}

static void
test_undo_and_step(void **state)
{
	static struct pfs_step s;
	const char *prog = NULL, *mode = NULL, *av[PFS_STEP_AV];
	char lab[64];

	(void)state;
	assert_int_equal(pfs_stage_undo(PFS_STAGE_HASH, &prog, &mode), 0);
	assert_string_equal(prog, "phash");
	assert_string_equal(mode, "--check");
	assert_int_equal(pfs_stage_undo(PFS_STAGE_ENCRYPT, &prog, &mode), 0);
	assert_string_equal(prog, "pencrypt");
	assert_int_equal(pfs_stage_undo(9, &prog, &mode), -1);
	pfs_step_init(&s, prog, mode);
	pfs_step_label(&s, lab, sizeof(lab));
	assert_string_equal(lab, "pencrypt -d");
	snprintf(s.perf_out, sizeof(s.perf_out), "p.data");
	pfs_step_argv(&s, av, 0);
	assert_string_equal(av[0], "perf");
	assert_string_equal(av[6], "pencrypt");
	assert_null(av[8]);
	while (s.argc + 2 <= PFS_STEP_ARGS)
		assert_int_equal(pfs_step_add(&s, "-q", NULL), 0);
	assert_int_equal(pfs_step_add(&s, "-q", NULL), -1);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore_names),
		cmocka_unit_test(test_restore_refusals),
		cmocka_unit_test(test_process_and_outdir),
		cmocka_unit_test(test_stagelog),
		cmocka_unit_test(test_undo_and_step),
	};

	return cmocka_run_group_tests_name("files", tests, NULL, NULL);
}
