/* Tests of the console's layout: every panel visible at 80x24, the space of
 * larger terminals used, nothing ever drawn off the screen. */
#include <stdbool.h>

#include "core/param.h"
#include "testlib.h"
#include "ui/layout.h"

static bool inside(struct rect r, int cols, int rows)
{
	return r.h >= 0 && r.w >= 0 && r.y >= 0 && r.x >= 0 && r.y + r.h <= rows &&
	       r.x + r.w <= cols;
}

static bool overlap(struct rect a, struct rect b)
{
	if (a.h == 0 || b.h == 0)
		return false;
	return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

static void check_sane(const struct layout *l)
{
	for (int i = 0; i < LP_COUNT; i++) {
		CU_ASSERT(inside(l->panel[i], l->cols, l->rows));
		for (int j = i + 1; j < LP_COUNT; j++)
			CU_ASSERT_FALSE(overlap(l->panel[i], l->panel[j]));
	}
}

static int steps_shown(const struct layout *l, int n)
{
	int shown = 0, y, x;
	for (int i = 0; i < n; i++)
		if (layout_grid_cell(l, 0, n, i, &y, &x))
			shown++;
	return shown;
}

/* At 80x24 every panel shows, with every parameter and the five meters. */
static void test_80x24(void)
{
	struct layout l;
	layout_compute(&l, 80, 24, 8);
	check_sane(&l);
	CU_ASSERT_FALSE(l.too_small);
	for (int i = 0; i < LP_COUNT; i++)
		CU_ASSERT(l.panel[i].h > 0 && l.panel[i].w > 0);
	CU_ASSERT_EQUAL(l.panel[LP_HEADER].h, 2);
	CU_ASSERT_EQUAL(l.panel[LP_FOOTER].y, 23);
	CU_ASSERT(l.panel[LP_PARAMS].h >= P_COUNT + 1);
	CU_ASSERT(l.panel[LP_PARAMS].w >= 44);
	CU_ASSERT_EQUAL(l.panel[LP_METERS].h, LAYOUT_METER_ROWS);
	CU_ASSERT(l.panel[LP_MUTATIONS].h >= 4);
	CU_ASSERT(l.panel[LP_MUTATIONS].w >= 34);
	CU_ASSERT_EQUAL(steps_shown(&l, 8), 8);

	/* sixteen steps still all show, in two rows, with every performance
	 * parameter (the voice envelope, last in the table, scrolls) */
	layout_compute(&l, 80, 24, 16);
	check_sane(&l);
	CU_ASSERT_EQUAL(steps_shown(&l, 16), 16);
	CU_ASSERT_EQUAL(l.grid_blocks, 2);
	CU_ASSERT(l.panel[LP_PARAMS].h >= P_COUNT + 1 - LAYOUT_PARAMS_MAY_SCROLL);
	CU_ASSERT_EQUAL(P_ATTACK, P_COUNT - LAYOUT_PARAMS_MAY_SCROLL);
}

/* A long pattern is paged, and the page follows the playhead. */
static void test_paging(void)
{
	struct layout l;
	int y, x;
	layout_compute(&l, 80, 24, 64);
	check_sane(&l);
	int per_page = l.cells_per_row * l.grid_blocks;
	CU_ASSERT(per_page < 64);
	CU_ASSERT(l.panel[LP_PARAMS].h >= P_COUNT + 1 - LAYOUT_PARAMS_MAY_SCROLL);
	for (int play = 0; play < 64; play++) {
		int first = layout_grid_first(&l, 64, play);
		CU_ASSERT(layout_grid_cell(&l, first, 64, play, &y, &x));
		CU_ASSERT(y >= 1 && y + LAYOUT_GRID_BLOCK_ROWS <= l.panel[LP_GRID].h);
		CU_ASSERT(x >= LAYOUT_GRID_LABEL_W && x < l.panel[LP_GRID].w);
	}
	int first = layout_grid_first(&l, 64, 40);
	CU_ASSERT_FALSE(layout_grid_cell(&l, first, 64, first - 1, &y, &x));
	CU_ASSERT_FALSE(layout_grid_cell(&l, first, 64, 64, &y, &x));
	CU_ASSERT_EQUAL(layout_grid_first(&l, 64, -1), 0);
}

/* Bigger terminals give more steps per row, longer bars and a longer log. */
static void test_larger_uses_space(void)
{
	struct layout s, b;
	layout_compute(&s, 80, 24, 32);
	layout_compute(&b, 120, 40, 32);
	check_sane(&b);
	CU_ASSERT(b.cells_per_row > s.cells_per_row);
	CU_ASSERT_EQUAL(steps_shown(&b, 32), 32);
	CU_ASSERT(b.panel[LP_PARAMS].w > s.panel[LP_PARAMS].w);
	CU_ASSERT(b.panel[LP_MUTATIONS].h > s.panel[LP_MUTATIONS].h);
	CU_ASSERT_EQUAL(b.panel[LP_FOOTER].y, 39);
	/* the columns fill the width */
	CU_ASSERT_EQUAL(b.panel[LP_MUTATIONS].x + b.panel[LP_MUTATIONS].w, 120);
	CU_ASSERT_EQUAL(b.panel[LP_METERS].y + b.panel[LP_METERS].h, 39);
}

/* Any size, however small, lays out without a panel off the screen. */
static void test_any_size(void)
{
	struct layout l;
	for (int cols = 0; cols <= 200; cols += 7)
		for (int rows = 0; rows <= 60; rows += 3)
			for (int n = 1; n <= 64; n *= 4) {
				layout_compute(&l, cols, rows, n);
				check_sane(&l);
				CU_ASSERT_EQUAL(l.too_small, cols < 80 || rows < 24);
				struct rect h = layout_help(&l, 16, 58);
				CU_ASSERT(inside(h, cols, rows));
			}
	layout_compute(&l, 80, 24, 0);
	check_sane(&l);
}

static void test_scroll(void)
{
	CU_ASSERT_EQUAL(layout_scroll(12, 20, 11, 0), 0);
	CU_ASSERT_EQUAL(layout_scroll(12, 5, 0, 0), 0);
	CU_ASSERT_EQUAL(layout_scroll(12, 5, 6, 0), 2);
	/* moving back up within the view keeps it where it is */
	CU_ASSERT_EQUAL(layout_scroll(12, 5, 4, 2), 2);
	CU_ASSERT_EQUAL(layout_scroll(12, 5, 1, 2), 1);
	CU_ASSERT_EQUAL(layout_scroll(12, 5, 11, 0), 7);
	CU_ASSERT_EQUAL(layout_scroll(12, 0, 11, 3), 0);
	for (int sel = 0; sel < 12; sel++) {
		int f = layout_scroll(12, 4, sel, 5);
		CU_ASSERT(sel >= f && sel < f + 4);
	}
}

static void test_help_centred(void)
{
	struct layout l;
	layout_compute(&l, 80, 24, 8);
	struct rect h = layout_help(&l, 16, 58);
	CU_ASSERT_EQUAL(h.w, 62);
	CU_ASSERT_EQUAL(h.h, 18);
	CU_ASSERT_EQUAL(h.x, 9);
	CU_ASSERT_EQUAL(h.y, 3);
}

TEST_SUITE(layout, NULL, NULL, TEST_CASE(test_80x24), TEST_CASE(test_paging),
           TEST_CASE(test_larger_uses_space), TEST_CASE(test_any_size), TEST_CASE(test_scroll),
           TEST_CASE(test_help_centred))
