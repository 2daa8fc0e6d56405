/**
 * Navigation as a pure reducer: state + action → state. No Ink, no React: the App keeps one of
 * these in a state hook and feeds it key presses; tests feed it actions directly.
 *
 * The rows are recomputed only when what is expanded (or the filter) changes; moving the cursor
 * is O(1) plus the window arithmetic.
 */
import type {Source} from '../sources/source.ts';
import {explainStart} from './detail.ts';
import {type DiskState, computingDisk, moveDisk} from './disk-view.ts';
import {type FilesState, enterDir, goUp, moveFiles, openFiles} from './files-view.ts';
import {type Command, commandFor} from './keys.ts';
import {findMatches} from './search.ts';
import {type Row, type TreeIndex, type TreeNode, ancestors, comparePositions, flatten, subjectKey} from './tree.ts';

export type Focus = 'tree' | 'details';

export type SearchState = {
	/** The search line is open and takes the keys. */
	readonly typing: boolean;
	readonly query: string;
	readonly matches: readonly string[];
	/** Index in matches of the match under the cursor, or -1. */
	readonly current: number;
	/** Where the cursor was when `/` was pressed (Esc goes back there). */
	readonly origin: string | null;
};

export type NavState = {
	readonly tree: TreeIndex;
	readonly expanded: ReadonlySet<string>;
	readonly filter: boolean;
	readonly rows: readonly Row[];
	readonly rowIndex: ReadonlyMap<string, number>;
	readonly cursor: number;
	/** First row shown in the tree pane. */
	readonly top: number;
	readonly treeHeight: number;
	readonly detailHeight: number;
	readonly focus: Focus;
	readonly detailScroll: number;
	readonly search: SearchState;
	readonly help: boolean;
	/** A one-line note for the status line ("no match", "search wrapped"), cleared by the next key. */
	readonly message: string | null;
	readonly quit: boolean;
	/** The files view (o) of a container, image or layer; null: the tree. */
	readonly files?: FilesState | null;
	/** The disk view (d): the ledger's owners; null: the tree. */
	readonly disk?: DiskState | null;
};

export type NavAction =
	| {readonly type: 'command'; readonly command: Command}
	| {readonly type: 'searchInput'; readonly text: string}
	| {readonly type: 'searchBackspace'}
	| {readonly type: 'searchSubmit'}
	| {readonly type: 'searchCancel'}
	| {readonly type: 'closeHelp'}
	| {readonly type: 'resize'; readonly treeHeight: number; readonly detailHeight: number}
	/** The whole model came in after the first step of reading (feed.ts): the same view over the new tree. */
	| {readonly type: 'retree'; readonly tree: TreeIndex}
	/** The ledger came in (or failed): the disk view shows it, if it is open. */
	| {readonly type: 'diskReady'; readonly disk: DiskState};

/** What the reducer needs from outside: the length of a node's detail text, to bound scrolling. */
export type NavContext = {
	readonly detailLength?: (node: TreeNode) => number;
	/** Where the files view reads from; without it, o says so. */
	readonly source?: Source | null;
	/** The length of the files view's detail text, to bound scrolling. */
	readonly filesDetailLength?: (files: FilesState) => number;
	/** The disk view's state when d opens it (the ledger, or computingDisk), starting its computation if need be. */
	readonly disk?: () => DiskState;
};

const noSearch: SearchState = {typing: false, query: '', matches: [], current: -1, origin: null};

function layout(
	tree: TreeIndex,
	expanded: ReadonlySet<string>,
	filter: boolean,
): {rows: Row[]; rowIndex: Map<string, number>} {
	const rows = flatten(tree, expanded, filter);
	const rowIndex = new Map<string, number>();
	rows.forEach((r, i) => rowIndex.set(r.node.key, i));
	return {rows, rowIndex};
}

export function initNav(tree: TreeIndex, treeHeight = 10, detailHeight = 10): NavState {
	const expanded = new Set(tree.sections.map(s => s.key));
	const {rows, rowIndex} = layout(tree, expanded, false);
	const state: NavState = {
		tree,
		expanded,
		filter: false,
		rows,
		rowIndex,
		cursor: 0,
		top: 0,
		treeHeight: Math.max(1, treeHeight),
		detailHeight: Math.max(1, detailHeight),
		focus: 'tree',
		detailScroll: 0,
		search: noSearch,
		help: false,
		message: null,
		quit: false,
	};
	// Start on the first container (or whatever comes first).
	return moveTo(state, rows.length > 1 && rows[1]!.node.depth === 1 ? 1 : 0);
}

export function selected(state: NavState): TreeNode | undefined {
	return state.rows[state.cursor]?.node;
}

/** The top row that keeps `cursor` on screen, moving the window as little as possible. */
export function windowTop(cursor: number, top: number, height: number, count: number): number {
	let t = top;
	if (cursor < t) t = cursor;
	if (cursor >= t + height) t = cursor - height + 1;
	return Math.max(0, Math.min(t, Math.max(0, count - height)));
}

function moveTo(state: NavState, index: number): NavState {
	const count = state.rows.length;
	const cursor = count === 0 ? 0 : Math.max(0, Math.min(index, count - 1));
	const top = windowTop(cursor, state.top, state.treeHeight, count);
	if (cursor === state.cursor && top === state.top) return state;
	return {...state, cursor, top, detailScroll: cursor === state.cursor ? state.detailScroll : 0};
}

function withRows(state: NavState, expanded: ReadonlySet<string>, filter: boolean): NavState {
	const keep = selected(state)?.key;
	const {rows, rowIndex} = layout(state.tree, expanded, filter);
	let cursor = keep === undefined ? undefined : rowIndex.get(keep);
	if (cursor === undefined && keep !== undefined) {
		// The selected node went away (collapsed or filtered): fall back to its nearest shown ancestor.
		for (const a of ancestors(keep).reverse()) {
			cursor = rowIndex.get(a);
			if (cursor !== undefined) break;
		}
	}
	const index = Math.max(0, Math.min(cursor ?? 0, rows.length - 1));
	const same = rows[index]?.node.key === keep;
	return {
		...state,
		expanded,
		filter,
		rows,
		rowIndex,
		cursor: index,
		top: windowTop(index, state.top, state.treeHeight, rows.length),
		detailScroll: same ? state.detailScroll : 0,
	};
}

function setExpanded(state: NavState, key: string, open: boolean): NavState {
	if (state.expanded.has(key) === open) return state;
	const expanded = new Set(state.expanded);
	if (open) expanded.add(key);
	else expanded.delete(key);
	return withRows(state, expanded, state.filter);
}

function scrollDetails(state: NavState, by: number | 'top' | 'bottom', ctx: NavContext): NavState {
	const node = selected(state);
	const files = state.files ?? null;
	const length =
		files !== null
			? (ctx.filesDetailLength?.(files) ?? Number.MAX_SAFE_INTEGER)
			: node === undefined || ctx.detailLength === undefined
				? Number.MAX_SAFE_INTEGER
				: ctx.detailLength(node);
	const max = Math.max(0, length - state.detailHeight);
	const target = by === 'top' ? 0 : by === 'bottom' ? max : state.detailScroll + by;
	return {...state, detailScroll: Math.max(0, Math.min(target, max))};
}

/** Moves the cursor onto a node, expanding its ancestors first. */
function jumpTo(state: NavState, key: string): NavState {
	let s = state;
	const missing = ancestors(key).filter(a => !s.expanded.has(a));
	if (missing.length > 0) s = withRows(s, new Set([...s.expanded, ...missing]), s.filter);
	const index = s.rowIndex.get(key);
	if (index === undefined) return {...s, message: 'that node is hidden by the findings filter (f)'};
	return moveTo(s, index);
}

function searchFrom(state: NavState, query: string, origin: string | null, typing: boolean): NavState {
	const matches = findMatches(state.tree, query, state.filter);
	const search: SearchState = {typing, query, matches, current: -1, origin};
	if (matches.length === 0) {
		const back = origin === null ? state : jumpTo(state, origin);
		return {...back, search, message: query === '' ? null : `no match for "${query}"`};
	}
	const from = origin === null ? [0] : state.tree.position(origin);
	let current = matches.findIndex(k => comparePositions(state.tree.position(k), from) >= 0);
	if (current < 0) current = 0;
	return {...jumpTo(state, matches[current]!), search: {...search, current}};
}

function step(state: NavState, dir: 1 | -1): NavState {
	if (state.search.query === '') return {...state, message: 'nothing to repeat: press / to search'};
	const matches = findMatches(state.tree, state.search.query, state.filter);
	if (matches.length === 0)
		return {...state, search: {...state.search, matches, current: -1}, message: `no match for "${state.search.query}"`};
	const here = state.tree.position(selected(state)?.key ?? '');
	let current = -1;
	if (dir === 1) current = matches.findIndex(k => comparePositions(state.tree.position(k), here) > 0);
	else
		for (let i = matches.length - 1; i >= 0; i--)
			if (comparePositions(state.tree.position(matches[i]!), here) < 0) {
				current = i;
				break;
			}
	let message: string | null = null;
	if (current < 0) {
		current = dir === 1 ? 0 : matches.length - 1;
		message = dir === 1 ? 'search wrapped to the top' : 'search wrapped to the bottom';
	}
	const moved = jumpTo(state, matches[current]!);
	return {...moved, search: {...state.search, matches, current}, message: moved.message ?? message};
}

/** A key in the files view: moves over one directory's entries, enters and leaves directories. */
function filesCommand(state: NavState, files: FilesState, c: Command, ctx: NavContext): NavState {
	const details = state.focus === 'details';
	const page = Math.max(1, (details ? state.detailHeight : state.treeHeight) - 1);
	const source = ctx.source ?? null;
	const move = (to: number): NavState => {
		const f = moveFiles(files, to, state.treeHeight);
		return f.cursor === files.cursor && f.top === files.top
			? state
			: {...state, files: f, detailScroll: f.cursor === files.cursor ? state.detailScroll : 0};
	};
	switch (c) {
		case 'up':
			return details ? scrollDetails(state, -1, ctx) : move(files.cursor - 1);
		case 'down':
			return details ? scrollDetails(state, 1, ctx) : move(files.cursor + 1);
		case 'pageUp':
			return details ? scrollDetails(state, -page, ctx) : move(files.cursor - page);
		case 'pageDown':
			return details ? scrollDetails(state, page, ctx) : move(files.cursor + page);
		case 'top':
			return details ? scrollDetails(state, 'top', ctx) : move(0);
		case 'bottom':
			return details ? scrollDetails(state, 'bottom', ctx) : move(files.rows.length - 1);
		case 'expand':
		case 'toggle': {
			if (source === null) return state;
			const f = enterDir(source, files);
			return f === files ? state : {...state, files: moveFiles(f, f.cursor, state.treeHeight), detailScroll: 0};
		}
		case 'collapse': {
			if (source === null) return state;
			const f = goUp(source, files);
			return f === null
				? {...state, message: 'at the top: o or Esc leaves the files'}
				: {...state, files: moveFiles(f, f.cursor, state.treeHeight), detailScroll: 0};
		}
		case 'files':
			return {...state, files: null, detailScroll: 0};
		case 'focus':
			return {...state, focus: details ? 'tree' : 'details'};
		case 'help':
			return {...state, help: !state.help};
		case 'quit':
			return {...state, quit: true};
		default:
			return {...state, message: 'not in the files view: o or Esc goes back to the tree'};
	}
}

/** A key in the disk view: moves over the owners; Enter goes to the owner in the tree. */
function diskCommand(state: NavState, disk: DiskState, c: Command): NavState {
	const page = Math.max(1, state.treeHeight - 1);
	const move = (to: number): NavState => {
		const d = moveDisk(disk, to, state.treeHeight);
		return d === disk ? state : {...state, disk: d};
	};
	const count = disk.rows?.length ?? 0;
	switch (c) {
		case 'up':
			return move(disk.cursor - 1);
		case 'down':
			return move(disk.cursor + 1);
		case 'pageUp':
			return move(disk.cursor - page);
		case 'pageDown':
			return move(disk.cursor + page);
		case 'top':
			return move(0);
		case 'bottom':
			return move(count - 1);
		case 'toggle':
		case 'expand': {
			if (disk.rows === null) return {...state, message: 'the ledger is still being computed'};
			const row = disk.rows[disk.cursor];
			if (row === undefined) return state;
			if (row.target === null) return {...state, message: `${row.kind} is not in the tree: nothing to go to`};
			return jumpTo({...state, disk: null, files: null, focus: 'tree'}, row.target);
		}
		case 'disk':
		case 'quit':
			return {...state, disk: null};
		case 'help':
			return {...state, help: !state.help};
		default:
			return {...state, message: 'not in the disk view: d or Esc goes back to the tree'};
	}
}

type MoveCommand = 'up' | 'down' | 'pageUp' | 'pageDown' | 'top' | 'bottom';

/** Cursor moves: in the tree they move the cursor, with the details focused they scroll them. */
function moveCommand(state: NavState, c: MoveCommand, ctx: NavContext): NavState {
	const details = state.focus === 'details';
	const page = Math.max(1, (details ? state.detailHeight : state.treeHeight) - 1);
	switch (c) {
		case 'up':
			return details ? scrollDetails(state, -1, ctx) : moveTo(state, state.cursor - 1);
		case 'down':
			return details ? scrollDetails(state, 1, ctx) : moveTo(state, state.cursor + 1);
		case 'pageUp':
			return details ? scrollDetails(state, -page, ctx) : moveTo(state, state.cursor - page);
		case 'pageDown':
			return details ? scrollDetails(state, page, ctx) : moveTo(state, state.cursor + page);
		case 'top':
			return details ? scrollDetails(state, 'top', ctx) : moveTo(state, 0);
		case 'bottom':
			return details ? scrollDetails(state, 'bottom', ctx) : moveTo(state, state.rows.length - 1);
	}
}

/** Expand: open the node, or if open, step into its first child. */
function expandCommand(state: NavState, node: TreeNode | undefined): NavState {
	if (node === undefined || !node.expandable) return state;
	if (!state.expanded.has(node.key)) return setExpanded(state, node.key, true);
	const next = state.rows[state.cursor + 1];
	return next !== undefined && next.node.parent === node.key ? moveTo(state, state.cursor + 1) : state;
}

/** Collapse: close the node, or if closed, go to its parent. */
function collapseCommand(state: NavState, node: TreeNode | undefined): NavState {
	if (node === undefined) return state;
	if (node.expandable && state.expanded.has(node.key)) return setExpanded(state, node.key, false);
	const parent = node.parent === null ? undefined : state.rowIndex.get(node.parent);
	return parent === undefined ? state : moveTo(state, parent);
}

/** Enter: on a finding, go to the node it concerns; elsewhere, open or close the node. */
function toggleCommand(state: NavState, node: TreeNode | undefined): NavState {
	if (node?.kind === 'finding') {
		const target = subjectKey(state.tree, node.finding.subject);
		return target === null ? {...state, message: 'this finding concerns no node of the tree'} : jumpTo(state, target);
	}
	if (node === undefined || !node.expandable) return state;
	return setExpanded(state, node.key, !state.expanded.has(node.key));
}

/** f: show only the nodes with findings, or all again. */
function filterCommand(state: NavState): NavState {
	if (state.tree.loading) return {...state, message: 'findings are still being read: f works once they are in'};
	const on = !state.filter;
	const s = withRows(state, state.expanded, on);
	const count = state.tree.model.findings.length;
	return {
		...s,
		message: on
			? count === 0
				? 'no findings on this host: nothing to show (f again shows all)'
				: 'showing only nodes with findings (f again shows all)'
			: null,
	};
}

/** e: focus the details and scroll to "what this is" (detail.ts explainStart); again: back to the top. */
function explainCommand(state: NavState, node: TreeNode | undefined, ctx: NavContext): NavState {
	if (node === undefined) return state;
	const length = ctx.detailLength?.(node);
	if (length === undefined) return {...state, focus: 'details'};
	const target = Math.max(0, Math.min(explainStart(state.tree, node, length), length - state.detailHeight));
	if (state.focus === 'details' && state.detailScroll === target)
		return {...state, detailScroll: 0, message: 'back to the top of the details (Tab: back to the tree)'};
	return {
		...state,
		focus: 'details',
		detailScroll: target,
		message: 'what this is (e again: back to the top; Tab: back to the tree)',
	};
}

/** o: open the files view of the selected node, when the root is read from a directory and fully loaded. */
function filesOpenCommand(state: NavState, node: TreeNode | undefined, ctx: NavContext): NavState {
	if (node === undefined) return state;
	if (ctx.source === undefined || ctx.source === null)
		return {...state, message: 'no files to show: the root is not read from a directory here'};
	if (state.tree.loading) return {...state, message: 'the layers are still being read: o works once they are in'};
	const f = openFiles(ctx.source, state.tree.model, node);
	if (typeof f === 'string') return {...state, message: f};
	return {...state, files: moveFiles(f, 0, state.treeHeight), focus: 'tree', detailScroll: 0};
}

function command(state: NavState, c: Command, ctx: NavContext): NavState {
	const disk = state.disk ?? null;
	if (disk !== null) return diskCommand(state, disk, c);
	if (c === 'disk') return {...state, disk: moveDisk(ctx.disk?.() ?? computingDisk, 0, state.treeHeight)};
	const files = state.files ?? null;
	if (files !== null) return filesCommand(state, files, c, ctx);
	const node = selected(state);
	switch (c) {
		case 'up':
		case 'down':
		case 'pageUp':
		case 'pageDown':
		case 'top':
		case 'bottom':
			return moveCommand(state, c, ctx);
		case 'expand':
			return expandCommand(state, node);
		case 'collapse':
			return collapseCommand(state, node);
		case 'toggle':
			return toggleCommand(state, node);
		case 'focus':
			return {...state, focus: state.focus === 'details' ? 'tree' : 'details'};
		case 'searchStart':
			return {...state, search: {...noSearch, typing: true, origin: node?.key ?? null}};
		case 'nextMatch':
			return step(state, 1);
		case 'prevMatch':
			return step(state, -1);
		case 'filter':
			return filterCommand(state);
		case 'explain':
			return explainCommand(state, node, ctx);
		case 'files':
			return filesOpenCommand(state, node, ctx);
		case 'help':
			return {...state, help: !state.help};
		case 'quit':
			return {...state, quit: true};
	}
}

/**
 * The same view over a new tree: what was expanded stays expanded, the cursor stays on its node
 * (or on its nearest shown ancestor: a "loading…" row gives way to its container), the search runs again.
 */
export function retree(state: NavState, tree: TreeIndex): NavState {
	if (state.tree === tree) return state;
	let s = withRows({...state, tree}, state.expanded, state.filter);
	if (s.search.query !== '') {
		const matches = findMatches(tree, s.search.query, s.filter);
		const here = selected(s)?.key;
		const at = here === undefined ? -1 : matches.indexOf(here);
		s = {...s, search: {...s.search, matches, current: at >= 0 ? at : Math.min(s.search.current, matches.length - 1)}};
	}
	return s;
}

export function reduce(state: NavState, action: NavAction, ctx: NavContext = {}): NavState {
	// Not a key: the message on the status line stays.
	if (action.type === 'retree') return retree(state, action.tree);
	if (action.type === 'diskReady') {
		const open = state.disk ?? null;
		return open === null || open.rows !== null ? state : {...state, disk: moveDisk(action.disk, 0, state.treeHeight)};
	}
	const s = state.message === null ? state : {...state, message: null};
	switch (action.type) {
		case 'command':
			return command(s, action.command, ctx);
		case 'searchInput':
			return searchFrom(s, s.search.query + action.text, s.search.origin, true);
		case 'searchBackspace':
			return searchFrom(s, s.search.query.slice(0, -1), s.search.origin, true);
		case 'searchSubmit':
			return {
				...s,
				search: {...s.search, typing: false},
				message: s.search.query !== '' && s.search.matches.length === 0 ? `no match for "${s.search.query}"` : null,
			};
		case 'searchCancel': {
			const back = s.search.origin === null ? s : jumpTo(s, s.search.origin);
			return {...back, search: noSearch};
		}
		case 'closeHelp':
			return {...s, help: false};
		case 'resize': {
			const treeHeight = Math.max(1, action.treeHeight);
			const detailHeight = Math.max(1, action.detailHeight);
			if (treeHeight === s.treeHeight && detailHeight === s.detailHeight) return s;
			return {...s, treeHeight, detailHeight, top: windowTop(s.cursor, s.top, treeHeight, s.rows.length)};
		}
	}
}

/**
 * Turns a key (a name from keys.ts, plus the raw input for typing) into an action, given the
 * mode: the search line takes printable keys; the help overlay only closes (or quits).
 */
export function actionForKey(state: NavState, name: string, input: string): NavAction | null {
	if (name === 'ctrl+c') return {type: 'command', command: 'quit'};
	if (state.search.typing) {
		if (name === 'enter') return {type: 'searchSubmit'};
		if (name === 'esc') return {type: 'searchCancel'};
		if (name === 'backspace') return {type: 'searchBackspace'};
		if (name.startsWith('ctrl+') || input === '' || /[\u0000-\u001f\u007f]/.test(input)) return null;
		return {type: 'searchInput', text: input};
	}
	if (state.help) {
		if (name === '?' || name === 'esc') return {type: 'closeHelp'};
		if (name === 'q') return {type: 'command', command: 'quit'};
		return null;
	}
	if ((state.disk ?? null) !== null && name === 'esc') return {type: 'command', command: 'disk'};
	if ((state.files ?? null) !== null) {
		if (name === 'esc') return {type: 'command', command: 'files'};
		if (name === 'backspace') return {type: 'command', command: 'collapse'};
	}
	const c = commandFor(name);
	return c === undefined ? null : {type: 'command', command: c};
}

const controlNames: Record<string, string> = {
	'\t': 'tab',
	'\r': 'enter',
	'\n': 'enter',
	'\u007f': 'backspace',
	'\b': 'backspace',
	'\u0003': 'ctrl+c',
	' ': 'space',
};

/**
 * Applies a key press. Several characters in one read (typed fast, pasted, or sent by tmux
 * send-keys) are applied one by one, so "/name" opens the search line and types "name", and
 * "\tG" moves the focus then goes to the bottom. Escape sequences arrive split already.
 */
export function reduceKey(state: NavState, name: string, input: string, ctx: NavContext = {}): NavState {
	const chars = [...input];
	if (chars.length > 1 && name === input) {
		let s = state;
		for (const ch of chars) {
			const n = controlNames[ch] ?? (/[\u0000-\u001f]/.test(ch) ? '' : ch);
			if (n !== '') s = reduceKey(s, n, n === 'space' ? ' ' : /[\u0000-\u001f\u007f]/.test(ch) ? '' : ch, ctx);
		}
		return s;
	}
	const action = actionForKey(state, name, input);
	return action === null ? state : reduce(state, action, ctx);
}
