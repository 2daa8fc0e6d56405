/**
 * Where the panes go for a terminal size. The frame is one line shorter than the terminal:
 * Ink 6 repaints the whole screen on every frame once a frame reaches the terminal's height.
 *
 * Narrow terminals (< 120 columns) stack the tree above the details; wide ones put them side by side.
 */
export type PaneLayout = {
	readonly width: number;
	/** Lines in the frame (terminal rows - 1). */
	readonly lines: number;
	readonly sideBySide: boolean;
	readonly treeWidth: number;
	readonly detailWidth: number;
	/** Rows of content, not counting each pane's title line. */
	readonly treeRows: number;
	readonly detailRows: number;
};

const sideBySideMin = 120;

export function paneLayout(columns: number, rows: number): PaneLayout {
	const width = Math.max(20, columns);
	const lines = Math.max(6, rows - 1);
	// Two lines at the bottom: the key/search line and the status bar.
	const body = lines - 2;
	if (width >= sideBySideMin) {
		const treeWidth = Math.floor((width - 1) * 0.5);
		return {
			width,
			lines,
			sideBySide: true,
			treeWidth,
			detailWidth: width - 1 - treeWidth,
			treeRows: body - 1,
			detailRows: body - 1,
		};
	}
	const content = Math.max(2, body - 2);
	const treeRows = Math.ceil(content / 2);
	return {
		width,
		lines,
		sideBySide: false,
		treeWidth: width,
		detailWidth: width,
		treeRows,
		detailRows: Math.max(1, content - treeRows),
	};
}
