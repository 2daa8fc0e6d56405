/**
 * The disk view (d): the owners of the root's bytes, as df's ledger assigns them, biggest first,
 * each with a proportional bar of plain characters (they read without colour). Pure: the ledger
 * is computed elsewhere (off the render path) and handed in; until then the view says it is
 * computing and every key still works.
 */
import type {OwnerBytes} from '../disk/root-ledger.ts';
import type {DfReport} from '../disk/report.ts';
import type {Model} from '../model/types.ts';
import {humanSize} from '../units.ts';
import {type Line, padCols, seg, truncateLine} from './text.ts';
import {type TreeIndex, subjectKey} from './tree.ts';

export type DiskRow = {
	/** What owns the bytes: a ledger kind word (container, image, volume, build-cache, orphan, daemon, other). */
	readonly kind: string;
	/** Its name (evidence: cleaned when drawn). */
	readonly label: string;
	readonly bytes: number;
	/** The tree node Enter goes to; null when the owner is no node of the tree. */
	readonly target: string | null;
};

export type DiskState = {
	/** null: the ledger is still being computed. */
	readonly rows: readonly DiskRow[] | null;
	/** Why there are no rows (the ledger could not be computed); null otherwise. */
	readonly error: string | null;
	readonly cursor: number;
	readonly top: number;
	/** Total apparent bytes of the root (the ledger's total). */
	readonly total: number;
};

export const computingDisk: DiskState = {rows: null, error: null, cursor: 0, top: 0, total: 0};

function shortId(id: string): string {
	return id.replace(/^sha256:/, '').slice(0, 12);
}

/** The ledger as the disk view gets it: df's report and the bytes of each owner. */
export type DiskLedger = {readonly report: DfReport; readonly owners: readonly OwnerBytes[]};

const containerKinds = new Set(['container-rw', 'container-init', 'container-logs', 'container-files']);

/** A row's name and tree node: a container by its name, a layer by its chain id and first image's tags. */
function describe(kind: string, ref: string, tree: TreeIndex, model: Model): {label: string; target: string | null} {
	if (kind === 'container') {
		const c = model.containers.find(x => x.id === ref);
		return {label: `${c?.name ?? shortId(ref)} (RW, init, logs, files)`, target: subjectKey(tree, `container:${ref}`)};
	}
	if (kind === 'image-layer') {
		const image =
			model.images.find(i => i.chainIds.includes(ref) && i.tags.length > 0) ??
			model.images.find(i => i.chainIds.includes(ref));
		const tags = image === undefined ? 'no image' : image.tags.length > 0 ? image.tags[0]! : shortId(image.id);
		return {label: `${shortId(ref)} (${tags})`, target: subjectKey(tree, `layer:${ref}`)};
	}
	if (ref === '') return {label: kind, target: null};
	return {label: ref, target: null};
}

/**
 * One row per owner the ledger assigned bytes to (a container's RW, init, logs and files as one
 * row), biggest first (ties by label): every byte once, so the rows sum to the root's total.
 */
export function diskRows(ledger: DiskLedger, tree: TreeIndex, model: Model): DiskRow[] {
	const merged = new Map<string, {kind: string; ref: string; bytes: number}>();
	for (const o of ledger.owners) {
		const kind = containerKinds.has(o.kind) ? 'container' : o.kind;
		const key = `${kind}\0${o.ref}`;
		const m = merged.get(key);
		if (m === undefined) merged.set(key, {kind, ref: o.ref, bytes: o.bytes});
		else m.bytes += o.bytes;
	}
	const rows: DiskRow[] = [];
	for (const m of merged.values()) rows.push({kind: m.kind, bytes: m.bytes, ...describe(m.kind, m.ref, tree, model)});
	rows.sort((a, b) => b.bytes - a.bytes || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
	return rows;
}

export function readyDisk(ledger: DiskLedger, tree: TreeIndex, model: Model): DiskState {
	return {rows: diskRows(ledger, tree, model), error: null, cursor: 0, top: 0, total: ledger.report.total.bytes};
}

export function moveDisk(state: DiskState, to: number, height: number): DiskState {
	const count = state.rows?.length ?? 0;
	const cursor = count === 0 ? 0 : Math.max(0, Math.min(to, count - 1));
	let top = state.top;
	if (cursor < top) top = cursor;
	if (cursor >= top + height) top = cursor - height + 1;
	top = Math.max(0, Math.min(top, Math.max(0, count - height)));
	return cursor === state.cursor && top === state.top ? state : {...state, cursor, top};
}

/** A bar of `width` cells, filled in proportion to bytes of the biggest row's. */
export function bar(bytes: number, biggest: number, width: number): string {
	const filled = biggest <= 0 ? 0 : Math.max(bytes > 0 ? 1 : 0, Math.round((bytes / biggest) * width));
	return '█'.repeat(Math.min(width, filled)) + '░'.repeat(Math.max(0, width - filled));
}

const barWidth = 12;

/** One row: size, bar, kind, name; cut to width. */
export function diskRowLine(row: DiskRow, biggest: number, width: number): Line {
	return truncateLine(
		[
			padCols(humanSize(row.bytes), 8),
			seg(' '),
			seg(bar(row.bytes, biggest, barWidth), 'info'),
			seg(' '),
			padCols(row.kind, 12, 'role'),
			seg(' '),
			seg(row.label, row.target === null ? 'plain' : 'id'),
		],
		width,
	);
}

/** The pane's lines below its title: a spinner line while computing, the error, or the rows in the window. */
export function diskLines(state: DiskState, height: number, width: number, frame = 0): Line[] {
	if (state.error !== null)
		return [truncateLine([seg(`the ledger could not be computed: ${state.error}`, 'error')], width)];
	if (state.rows === null) {
		const spin = '|/-\\'[frame % 4]!;
		return [
			truncateLine([seg(`${spin} computing the ledger (a walk of the whole root)… keys still work`, 'dim')], width),
		];
	}
	if (state.rows.length === 0) return [[seg('no bytes under the root', 'dim')]];
	const biggest = state.rows[0]!.bytes;
	return state.rows.slice(state.top, state.top + height).map(r => diskRowLine(r, biggest, width));
}

/** The detail pane beside the disk view: the selected owner's exact figures, and the root's total. */
export function diskDetailLines(state: DiskState): Line[] {
	if (state.rows === null)
		return [[seg('the ledger assigns every byte under the root to one owner, as df does', 'dim')]];
	const row = state.rows[state.cursor];
	const total = [seg('root total    ', 'label'), seg(`${state.total} bytes (${humanSize(state.total)})`)];
	if (row === undefined) return [total];
	const share = state.total > 0 ? ` ${((row.bytes / state.total) * 100).toFixed(1)}% of the root` : '';
	return [
		[seg('owner         ', 'label'), seg(row.label, 'id')],
		[seg('kind          ', 'label'), seg(row.kind, 'role')],
		[seg('bytes         ', 'label'), seg(`${row.bytes} (${humanSize(row.bytes)})${share}`)],
		total,
		[],
		[seg(row.target === null ? 'not a node of the tree' : 'Enter: go to it in the tree', 'dim')],
	];
}
