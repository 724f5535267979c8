/*
 * layout: where the console's panels go on a terminal of a given size.
 *
 * The screen, top to bottom: the header (2 lines), the step grid, then the
 * parameters on the left beside the mutation log over the meters on the
 * right, and a key bar on the last line.  80x24 shows every panel; larger
 * terminals give the grid more steps per row, the bars more width and the
 * mutation log more lines.  Pure geometry, no curses: any thread.
 */
#ifndef ME_UI_LAYOUT_H
#define ME_UI_LAYOUT_H

#include <stdbool.h>

#define LAYOUT_MIN_COLS 80
#define LAYOUT_MIN_ROWS 24
#define LAYOUT_HEADER_ROWS 2
#define LAYOUT_METER_ROWS 6   /* title and five meters */
#define LAYOUT_GRID_LABEL_W 5 /* "step", "note", "prob" */
#define LAYOUT_GRID_CELL_W 5
#define LAYOUT_GRID_BLOCK_ROWS 3 /* a row of steps: number, note, probability */
/* Parameter rows that may scroll out of sight to make room for a second row
 * of steps (the last in the table: attack and release, which profiles set). */
#define LAYOUT_PARAMS_MAY_SCROLL 2

struct rect {
	int y, x, h, w;
};

enum layout_panel { LP_HEADER, LP_GRID, LP_PARAMS, LP_MUTATIONS, LP_METERS, LP_FOOTER, LP_COUNT };

struct layout {
	int cols, rows;
	bool too_small;              /* under 80x24: laid out, but clipped */
	struct rect panel[LP_COUNT]; /* h or w 0: not shown */
	int cells_per_row;           /* steps per grid row */
	int grid_blocks;             /* grid rows of steps shown */
};

/* Lays out a cols x rows terminal for a pattern of n_steps. */
void layout_compute(struct layout *l, int cols, int rows, int n_steps);
/* First step shown: the page of the grid holding play_step. */
int layout_grid_first(const struct layout *l, int n_steps, int play_step);
/* Position of step inside the grid panel (top of its three lines), or false
 * when the step is not on the shown page. */
bool layout_grid_cell(const struct layout *l, int first, int n_steps, int step, int *y, int *x);
/* First of n rows to show in `visible` lines so `selected` stays in view,
 * moving as little as possible from prev_first. */
int layout_scroll(int n, int visible, int selected, int prev_first);
/* The help overlay for n_lines lines of text, centred. */
struct rect layout_help(const struct layout *l, int n_lines, int text_w);

#endif
