/*
 * layout: panel geometry of the console (see layout.h).
 *
 * Heights are given out in order of need: header and key bar first, then the
 * parameters (all twelve rows when they fit), then as many rows of steps as
 * the pattern needs and the rest allows (at least one; a longer pattern is
 * paged to follow the playhead), and what remains goes to the parameter and
 * log column.  Pure; any thread.
 */
#include "ui/layout.h"

#include "core/param.h"

static int max_i(int a, int b)
{
	return a > b ? a : b;
}

static int min_i(int a, int b)
{
	return a < b ? a : b;
}

static struct rect mk(int y, int x, int h, int w)
{
	struct rect r = {y, x, max_i(h, 0), max_i(w, 0)};
	if (r.h == 0 || r.w == 0)
		r = (struct rect){0, 0, 0, 0}; /* not shown */
	return r;
}

void layout_compute(struct layout *l, int cols, int rows, int n_steps)
{
	cols = max_i(cols, 0);
	rows = max_i(rows, 0);
	n_steps = max_i(n_steps, 1);
	l->cols = cols;
	l->rows = rows;
	l->too_small = cols < LAYOUT_MIN_COLS || rows < LAYOUT_MIN_ROWS;

	int header_h = min_i(LAYOUT_HEADER_ROWS, rows);
	int footer_h = rows > header_h ? 1 : 0;
	l->panel[LP_HEADER] = mk(0, 0, header_h, cols);
	l->panel[LP_FOOTER] = mk(rows - footer_h, 0, footer_h, cols);
	int mid = rows - header_h - footer_h;

	l->cells_per_row = max_i(1, (cols - LAYOUT_GRID_LABEL_W) / LAYOUT_GRID_CELL_W);
	l->cells_per_row = min_i(l->cells_per_row, n_steps);
	int needed = (n_steps + l->cells_per_row - 1) / l->cells_per_row;
	/* the parameters want a title and one row each, but for the last few */
	int room = (mid - 1 - (P_COUNT + 1 - LAYOUT_PARAMS_MAY_SCROLL)) / LAYOUT_GRID_BLOCK_ROWS;
	l->grid_blocks = max_i(1, min_i(needed, room));
	int grid_h = min_i(1 + LAYOUT_GRID_BLOCK_ROWS * l->grid_blocks, mid);
	l->panel[LP_GRID] = mk(header_h, 0, grid_h, cols);

	int low_y = header_h + grid_h;
	int low_h = mid - grid_h;
	int left_w = cols >= 120 ? cols * 55 / 100 : max_i(44, cols - 36);
	left_w = min_i(left_w, cols);
	int right_w = cols - left_w - 1; /* one column of gap */
	l->panel[LP_PARAMS] = mk(low_y, 0, low_h, left_w);
	int meters_h = min_i(LAYOUT_METER_ROWS, low_h);
	l->panel[LP_MUTATIONS] = mk(low_y, left_w + 1, low_h - meters_h, right_w);
	l->panel[LP_METERS] = mk(low_y + low_h - meters_h, left_w + 1, meters_h, right_w);
}

int layout_grid_first(const struct layout *l, int n_steps, int play_step)
{
	int per_page = l->cells_per_row * l->grid_blocks;
	if (per_page <= 0 || play_step < 0 || play_step >= n_steps)
		return 0;
	return play_step / per_page * per_page;
}

bool layout_grid_cell(const struct layout *l, int first, int n_steps, int step, int *y, int *x)
{
	int per_page = l->cells_per_row * l->grid_blocks;
	int k = step - first;
	if (step < 0 || step >= n_steps || k < 0 || k >= per_page)
		return false;
	*y = 1 + k / l->cells_per_row * LAYOUT_GRID_BLOCK_ROWS;
	*x = LAYOUT_GRID_LABEL_W + k % l->cells_per_row * LAYOUT_GRID_CELL_W;
	return *y + LAYOUT_GRID_BLOCK_ROWS <= l->panel[LP_GRID].h &&
	       *x + LAYOUT_GRID_CELL_W <= l->panel[LP_GRID].w + 1;
}

int layout_scroll(int n, int visible, int selected, int prev_first)
{
	if (visible <= 0 || n <= visible)
		return 0;
	int first = prev_first;
	if (selected < first)
		first = selected;
	if (selected >= first + visible)
		first = selected - visible + 1;
	return max_i(0, min_i(first, n - visible));
}

struct rect layout_help(const struct layout *l, int n_lines, int text_w)
{
	int w = min_i(text_w + 4, l->cols);
	int h = min_i(n_lines + 2, l->rows);
	return mk((l->rows - h) / 2, (l->cols - w) / 2, h, w);
}
