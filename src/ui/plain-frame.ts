/**
 * The explorer's opening frame as terminal output, drawn by the launcher before Ink is loaded:
 * importing Ink and React takes most of a second, reading the containers less, so the tree can be
 * on screen before Ink is. Ink's first frame then draws the same text over it (the components
 * lay out the same lines: test/unit/ui-app.tsx compares the two), and takes the keys from there.
 *
 * Mirrors the App, TreePane, DetailPane, PaneTitle and StyledLine components for
 * the opening state only (initNav: cursor on the first container, no help, no search). Pure.
 */
import type {Model} from '../model/types.ts';
import {type ContainerDetails, withDetails} from './container-details.ts';
import {detailLines, detailTitle} from './detail.ts';
import type {FileListing} from './layer-files.ts';
import {paneLayout} from './pane-layout.ts';
import {type NavState, initNav, selected} from './nav.ts';
import {rowLine} from './rows.ts';
import {promptLine, statusLine} from './status.ts';
import {type Line, type Tone, paneTitleText, seg, truncate, truncateLine} from './text.ts';
import {buildTree} from './tree.ts';

/** SGR codes per tone: the same theme as the StyledLine component's toneProps. */
const toneCodes: Record<Tone, string> = {
	plain: '',
	dim: '2',
	label: '2',
	title: '1',
	id: '36',
	role: '35',
	error: '31',
	warning: '33',
	info: '34',
	ok: '32',
};

type Cell = {
	readonly line: Line;
	readonly width: number;
	readonly inverse?: boolean;
	readonly dim?: boolean;
	readonly bold?: boolean;
};

const cols = (s: string) => [...s].length;

function sgr(codes: readonly string[]): string {
	const list = codes.filter(c => c !== '');
	return list.length === 0 ? '' : `\u001B[${list.join(';')}m`;
}

/** A tone's SGR code; colours (30–37) only when colour is on. */
function toneCode(tone: Tone, color: boolean): string {
	const code = toneCodes[tone];
	return color || code.length < 2 ? code : '';
}

/** One cell (a StyledLine) as text with SGR codes, and its width in columns. */
function styled(cell: Cell, color: boolean): {text: string; used: number} {
	const line = truncateLine(cell.line, cell.width);
	let used = 0;
	for (const s of line) used += cols(s.text);
	const outer = [cell.inverse ? '7' : '', cell.dim ? '2' : '', cell.bold ? '1' : ''];
	const padding = cell.inverse && used < cell.width ? ' '.repeat(cell.width - used) : '';
	let text = '';
	for (const s of line) if (s.text !== '') text += `${sgr([...outer, toneCode(s.tone, color)])}${s.text}\u001B[0m`;
	if (padding !== '') text += `${sgr(outer)}${padding}\u001B[0m`;
	return {text, used: used + padding.length};
}

function paneTitle(title: string, note: string, width: number, focused: boolean): Cell {
	return {
		line: [seg(paneTitleText(title, note, width, focused), focused ? 'id' : 'dim')],
		width,
		...(focused ? {bold: true} : {}),
	};
}

/** Rows of one pane: its title, then its lines, padded with blank rows to `height + 1`. */
function treeCells(nav: NavState, width: number, height: number): Cell[] {
	const focused = nav.focus === 'tree';
	const shown = nav.rows.slice(nav.top, nav.top + height);
	const range = nav.rows.length === 0 ? 'empty' : `${nav.top + 1}-${nav.top + shown.length} of ${nav.rows.length}`;
	const out: Cell[] = [paneTitle('tree', range, width, focused)];
	shown.forEach((row, i) => {
		const cursor = nav.top + i === nav.cursor;
		out.push({
			line: rowLine(nav.tree, row, width, nav.filter, cursor),
			width,
			inverse: cursor,
			dim: cursor && !focused,
		});
	});
	return out;
}

function detailCells(
	title: string,
	lines: readonly Line[],
	scroll: number,
	width: number,
	height: number,
	focused: boolean,
): Cell[] {
	const first = Math.max(0, Math.min(scroll, lines.length - height));
	const shown = lines.slice(first, first + height);
	const note =
		lines.length <= height
			? ''
			: `${first + 1}-${first + shown.length} of ${lines.length}${focused ? '' : ' (Tab to scroll)'}`;
	return [
		paneTitle(truncate(`details: ${title}`, Math.max(10, width - 30)), note, width, focused),
		...shown.map(line => ({line: truncateLine([seg(' '), ...line], width), width})),
	];
}

const pad = (cells: Cell[], n: number, width: number): Cell[] =>
	[...cells, ...Array.from({length: Math.max(0, n - cells.length)}, () => ({line: [], width}))].slice(0, n);

export type PlainFrameInput = {
	readonly model: Model;
	readonly loading: boolean;
	readonly details: ContainerDetails | null;
	readonly files: (dir: string) => FileListing | null;
	readonly sample: boolean;
	/** Draw colour (default true): without it only bold, dim and inverse are written, as the components do. */
	readonly color?: boolean;
	readonly columns: number;
	readonly rows: number;
};

/** The opening frame's lines as plain text (no SGR codes; trailing spaces trimmed, as Ink writes them). */
export function plainFrameText(input: PlainFrameInput): string[] {
	return frameCells(input).map(row =>
		row
			.map((c, i) => {
				const t = truncateLine(c.line, c.width)
					.map(s => s.text)
					.join('');
				return i < row.length - 1 ? t + ' '.repeat(Math.max(0, c.width - cols(t))) : t;
			})
			.join('')
			.trimEnd(),
	);
}

/**
 * The opening frame as terminal output: from the top left, every line erased to its end, the
 * rest of the screen cleared, and the cursor back at the top left (where Ink starts drawing).
 */
export function plainFrame(input: PlainFrameInput): string {
	let out = '\u001B[H';
	for (const row of frameCells(input)) {
		let line = '';
		for (const cell of row) {
			const {text, used} = styled(cell, input.color ?? true);
			// Cells of a row (the side-by-side panes) are padded to their width, as Ink's boxes are.
			line += text + (row.length > 1 ? ' '.repeat(Math.max(0, cell.width - used)) : '');
		}
		out += `${line}\u001B[K\r\n`;
	}
	return `${out}\u001B[J\u001B[H`;
}

function frameCells(input: PlainFrameInput): Cell[][] {
	const layout = paneLayout(input.columns, input.rows);
	const tree = buildTree(input.model, {loading: input.loading});
	const nav = initNav(tree, layout.treeRows, layout.detailRows);
	const node = selected(nav);
	const lines = node === undefined ? [] : detailLines(tree, withDetails(node, input.details), input.files);
	const bodyHeight = layout.lines - 2;
	const treePane = pad(treeCells(nav, layout.treeWidth, layout.treeRows), layout.treeRows + 1, layout.treeWidth);
	const detailPane = pad(
		detailCells(
			detailTitle(node),
			lines,
			nav.detailScroll,
			layout.detailWidth,
			layout.detailRows,
			nav.focus === 'details',
		),
		layout.detailRows + 1,
		layout.detailWidth,
	);
	const rows: Cell[][] = [];
	if (layout.sideBySide) {
		for (let i = 0; i < bodyHeight; i++)
			rows.push([
				treePane[i] ?? {line: [], width: layout.treeWidth},
				{line: [seg('│', 'dim')], width: 1},
				detailPane[i] ?? {line: [], width: layout.detailWidth},
			]);
	} else {
		for (const cell of pad([...treePane, ...detailPane], bodyHeight, layout.width)) rows.push([cell]);
	}
	rows.push([{line: promptLine(nav), width: layout.width}]);
	rows.push([
		{
			line: statusLine(input.model, {sample: input.sample, loading: input.loading}, nav.filter, layout.width),
			width: layout.width,
			inverse: true,
		},
	]);
	return rows;
}
