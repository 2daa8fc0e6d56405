/**
 * The files view of the explorer: one directory at a time of a container's or image's merged
 * view, or of one layer's own entries with their marks. Pure of Ink and React; it reads through
 * the Source (read-only, lstat only) and lists a directory only when it is entered.
 *
 * Marks: a view has `own` top layers (1 for a container, its RW layer; 1 for a layer; 0 for an
 * image). An entry the own layers provide is A (nothing of that name below) or M (something
 * below); a name the own layers delete is D (shown with what it was below). An image has no marks.
 * A layer's view lists only its own entries (A, M, D); a container's lists the whole merged view.
 */
import {append} from '../append.ts';
import type {Model} from '../model/types.ts';
import type {EntryKind, Source, Stat} from '../sources/source.ts';
import {
	type FsLayer,
	type FsView,
	containerLayers,
	imageView,
	join,
	layerChain,
	makeView,
	mergedDir,
	readLayerDir,
	rootLayers,
} from '../files/view.ts';
import {humanSize} from '../view/format.ts';
import {type Line, type Segment, seg, truncateLine} from './text.ts';
import type {TreeNode} from './tree.ts';
import {shortId} from '../model/ids.ts';

export type FileMark = 'A' | 'M' | 'D' | ' ';

export type FileRow = {
	readonly name: string;
	readonly kind: EntryKind;
	readonly mark: FileMark;
	/** Path in the source of what is shown (for D: what was below); null when there is none. */
	readonly path: string | null;
	readonly stat: Stat | null;
	/** For a directory that is not deleted: its contributing layers in the view and in the base. */
	readonly layers: readonly number[];
	readonly baseLayers: readonly number[];
};

type Dir = {
	readonly rel: string;
	readonly layers: readonly number[];
	readonly baseLayers: readonly number[];
	readonly cursor: number;
};

export type FilesState = {
	/** What is shown: "container web", "layer 1a2b3c4d5e6f", … (cleaned when drawn, as every Segment). */
	readonly title: string;
	readonly view: FsView;
	/** The view without its own layers (marks compare against it); null: no marks. */
	readonly base: FsView | null;
	/** How many top layers are the view's own (marked); 0: no marks. */
	readonly own: number;
	/** Only the own layers' entries (a layer's view); otherwise the whole merged view. */
	readonly ownOnly: boolean;
	/** The directories entered, root first; the last one is listed. */
	readonly dirs: readonly Dir[];
	readonly rows: readonly FileRow[];
	/** Whether an own layer makes this directory opaque (hides everything below). */
	readonly opaque: boolean;
	readonly cursor: number;
	readonly top: number;
	readonly problems: readonly string[];
};

const maxContentBytes = 64 * 1024;
const sniffBytes = 8 * 1024;

function viewFor(model: Model, node: TreeNode): {view: FsView; own: number; title: string; ownOnly?: boolean} | string {
	if (node.kind === 'container') {
		const layers = containerLayers(node.container);
		if (typeof layers === 'string') return layers;
		const r = makeView(node.container.driver, layers, `container:${node.container.id}`);
		return r.ok
			? {view: r.view, own: 1, title: `container ${node.container.name ?? shortId(node.container.id)}`}
			: r.error;
	}
	if (node.kind === 'image') {
		if (node.image === null) return 'this image is not in the image store';
		const r = imageView(model, node.image);
		return r.ok ? {view: r.view, own: 0, title: `image ${node.image.tags[0] ?? node.image.id.slice(7, 19)}`} : r.error;
	}
	if (node.kind === 'layer') {
		let layers: FsLayer[] | string;
		let driver: string | null;
		if (node.container !== null) {
			layers = containerLayers(node.container);
			if (typeof layers !== 'string') layers = layers.slice(node.index);
			driver = node.container.driver;
		} else if (node.layer !== null) {
			layers = layerChain(model, node.layer);
			driver = node.layer.driver;
		} else return 'this layer has no directory';
		if (typeof layers === 'string') return layers;
		const r = makeView(driver, layers, `layer:${node.chainId ?? ''}`);
		const id = layers[0]?.cacheId ?? '';
		return r.ok ? {view: r.view, own: 1, title: `${node.role} layer ${shortId(id)}`, ownOnly: true} : r.error;
	}
	return 'files: select a container, an image or a layer';
}

/** Opens the files view of a node, listing its root; a string says why it cannot. */
export function openFiles(source: Source, model: Model, node: TreeNode): FilesState | string {
	const v = viewFor(model, node);
	if (typeof v === 'string') return v;
	const {view, own, title, ownOnly = false} = v;
	// A flattened driver keeps only the top layer (a full copy): nothing to compare against, no marks.
	const flat = view.style === 'none';
	const base = own > 0 && view.layers.length > own ? {...view, layers: view.layers.slice(own)} : null;
	const root: Dir = {rel: '', layers: rootLayers(view), baseLayers: base === null ? [] : rootLayers(base), cursor: 0};
	return list(
		source,
		{
			title,
			view,
			base,
			own: flat ? 0 : own,
			ownOnly: ownOnly && !flat,
			dirs: [],
			rows: [],
			opaque: false,
			cursor: 0,
			top: 0,
			problems: [],
		},
		[root],
		0,
	);
}

function statOf(source: Source, path: string): Stat | null {
	const st = source.stat(path);
	return st.ok ? st.value : null;
}

/** Lists the last of `dirs` and puts the cursor at `cursor`. */
function list(source: Source, s: FilesState, dirs: readonly Dir[], cursor: number): FilesState {
	const d = dirs[dirs.length - 1]!;
	const m = mergedDir(source, s.view, d.layers, d.rel);
	const problems = m.problems.map(p => p.message);
	const own = s.own;
	const below = s.base === null || d.baseLayers.length === 0 ? null : mergedDir(source, s.base, d.baseLayers, d.rel);
	if (below !== null)
		append(
			problems,
			below.problems.map(p => p.message),
		);
	const belowBy = new Map((below?.entries ?? []).map(e => [e.name, e]));
	const rows: FileRow[] = [];
	const shown = new Set<string>();
	for (const e of m.entries) {
		shown.add(e.name);
		const path = join(s.view.layers[e.layer]!.dir, join(d.rel, e.name));
		const mark: FileMark = own === 0 || e.layer >= own ? ' ' : belowBy.has(e.name) ? 'M' : 'A';
		if (s.ownOnly && mark === ' ') continue;
		const b = belowBy.get(e.name);
		rows.push({
			name: e.name,
			kind: e.kind,
			mark,
			path,
			stat: statOf(source, path),
			layers: e.dirLayers,
			baseLayers: b !== undefined && b.kind === 'dir' && e.kind === 'dir' ? b.dirLayers : [],
		});
	}
	if (below !== null) {
		for (const b of below.entries) {
			if (shown.has(b.name)) continue;
			const path = join(s.base!.layers[b.layer]!.dir, join(d.rel, b.name));
			rows.push({name: b.name, kind: b.kind, mark: 'D', path, stat: statOf(source, path), layers: [], baseLayers: []});
		}
		rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	}
	let opaque = false;
	for (let i = 0; i < own && d.rel !== ''; i++)
		if (readLayerDir(source, s.view.style, s.view.layers[i]!.dir, d.rel).opaque) opaque = true;
	const c = Math.max(0, Math.min(cursor, rows.length - 1));
	return {...s, dirs, rows, opaque, cursor: c, top: Math.max(0, c - 3), problems};
}

export function selectedFile(s: FilesState): FileRow | undefined {
	return s.rows[s.cursor];
}

/** The directory shown, as an absolute path ("/", "/etc"). */
export function currentDir(s: FilesState): string {
	return `/${s.dirs[s.dirs.length - 1]?.rel ?? ''}`;
}

/** Enters the selected directory; the same state when it is not one (or is deleted). */
export function enterDir(source: Source, s: FilesState): FilesState {
	const r = selectedFile(s);
	if (r === undefined || r.kind !== 'dir' || r.mark === 'D') return s;
	const here = s.dirs[s.dirs.length - 1]!;
	const dirs = [
		...s.dirs.slice(0, -1),
		{...here, cursor: s.cursor},
		{rel: join(here.rel, r.name), layers: r.layers, baseLayers: r.baseLayers, cursor: 0},
	];
	return list(source, s, dirs, 0);
}

/** Goes to the parent directory, the cursor on the directory it came from; null at the root. */
export function goUp(source: Source, s: FilesState): FilesState | null {
	if (s.dirs.length <= 1) return null;
	const dirs = s.dirs.slice(0, -1);
	return list(source, s, dirs, dirs[dirs.length - 1]!.cursor);
}

/** Moves the cursor (by rows, or to an end), keeping it in a window of `height` rows. */
export function moveFiles(s: FilesState, to: number, height: number): FilesState {
	const cursor = Math.max(0, Math.min(to, s.rows.length - 1));
	let top = s.top;
	if (cursor < top) top = cursor;
	if (cursor >= top + height) top = cursor - height + 1;
	top = Math.max(0, Math.min(top, Math.max(0, s.rows.length - height)));
	return {...s, cursor, top};
}

const markTone = {A: 'ok', M: 'warning', D: 'error', ' ': 'plain'} as const;

/** A folder's size as far as it is known (folder-sizes.ts): its bytes, and whether the walk is still going. */
export type DirSize = {readonly bytes: number; readonly done: boolean};

function sizeText(r: FileRow, dir: DirSize | undefined, frame: number): string {
	if (r.kind === 'dir' && r.mark !== 'D' && dir !== undefined)
		return dir.done ? humanSize(dir.bytes) : `${'|/-\\'[frame % 4]} ${humanSize(dir.bytes)}`;
	if (r.mark === 'D' || r.stat === null || r.kind === 'dir') return '-';
	return humanSize(r.stat.size);
}

/** One row of the files pane; a directory's size when it is known (or a spinner and the bytes so far). */
export function fileRowLine(r: FileRow, width: number, cursor: boolean, dir?: DirSize, frame = 0): Line {
	const out: Segment[] = [
		seg(' '),
		seg(cursor ? '›' : ' ', 'title'),
		seg(' '),
		seg(r.mark, markTone[r.mark]),
		seg(' '),
	];
	out.push(seg(sizeText(r, dir, frame).padStart(8), 'dim'), seg('  '));
	const suffix = r.kind === 'dir' ? '/' : r.kind === 'symlink' ? '@' : '';
	out.push(seg(r.name + suffix, r.mark === 'D' ? 'dim' : r.kind === 'dir' ? 'title' : 'plain'));
	return truncateLine(out, width);
}

export type ContentDecision =
	| {readonly show: 'text'; readonly text: string}
	| {readonly show: 'none'; readonly why: string};

/** Whether a file's content is shown: a regular file of at most 64 KiB with no NUL byte in its first 8 KiB. */
export function contentOf(source: Source, r: FileRow): ContentDecision {
	if (r.mark === 'D') return {show: 'none', why: 'deleted here: the content shown would be the one below'};
	if (r.kind !== 'file' || r.path === null) return {show: 'none', why: 'not a regular file'};
	if (r.stat !== null && r.stat.size > maxContentBytes) return {show: 'none', why: 'too large to show (over 64 KiB)'};
	const data = source.readFile(r.path, maxContentBytes);
	if (!data.ok) return {show: 'none', why: data.error.message};
	if (data.value.subarray(0, sniffBytes).includes(0)) return {show: 'none', why: 'binary (NUL bytes): not shown'};
	return {show: 'text', text: data.value.toString('utf8')};
}

const kindName: Record<EntryKind, string> = {
	file: 'regular file',
	dir: 'directory',
	symlink: 'symbolic link',
	char: 'character device',
	block: 'block device',
	fifo: 'fifo',
	socket: 'socket',
	other: 'other',
};
const markName: Record<FileMark, string> = {
	A: 'added by this layer',
	M: 'modified: this layer replaces what is below',
	D: 'deleted by this layer (a whiteout)',
	' ': 'unchanged (from a lower layer)',
};

/** The detail pane's lines for the selected entry (lines cut to width). */
export function fileDetailLines(source: Source, s: FilesState, width: number): Line[] {
	const r = selectedFile(s);
	const out: Line[] = [];
	const kv = (k: string, v: string) => out.push(truncateLine([seg(`${k.padEnd(8)} `, 'label'), seg(v)], width));
	for (const p of s.problems) out.push(truncateLine([seg(p, 'error')], width));
	if (r === undefined) {
		out.push([seg('empty directory', 'dim')]);
		return out;
	}
	const dir = s.dirs[s.dirs.length - 1]!.rel;
	kv('path', `/${join(dir, r.name)}`);
	kv('type', kindName[r.kind]);
	kv('status', s.own === 0 ? 'merged view (no marks)' : markName[r.mark]);
	if (r.stat !== null) {
		if (r.mark === 'D') out.push([seg('what it deleted, in the layers below:', 'dim')]);
		kv('mode', `0${(r.stat.mode & 0o7777).toString(8).padStart(3, '0')}`);
		kv('owner', `${r.stat.uid}:${r.stat.gid}`);
		if (r.kind !== 'dir') kv('size', `${humanSize(r.stat.size)} (${r.stat.size} bytes)`);
		kv('mtime', Number.isFinite(r.stat.mtimeMs) ? new Date(r.stat.mtimeMs).toISOString() : '?');
	}
	if (r.kind === 'symlink' && r.path !== null && r.mark !== 'D') {
		const t = source.readLink(r.path);
		kv('target', t.ok ? t.value : t.error.message);
	}
	if (r.kind === 'dir') {
		out.push([seg(r.mark === 'D' ? 'deleted: nothing to enter' : '→ / l / Enter lists it', 'dim')]);
		return out;
	}
	if (r.kind !== 'file') return out;
	const c = contentOf(source, r);
	out.push([]);
	if (c.show === 'none') {
		out.push(truncateLine([seg(`content: ${c.why}`, 'dim')], width));
		return out;
	}
	out.push([seg('content', 'title')]);
	const lines = c.text.split('\n');
	if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
	for (const l of lines) out.push(truncateLine([seg(l.replaceAll('\t', '    '))], width));
	return out;
}
