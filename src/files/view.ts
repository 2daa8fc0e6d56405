import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import type {Container, Image, Layer, Model} from '../model/types.ts';
import type {Entry, EntryKind, Source, SourceError, Stat} from '../sources/source.ts';
import {shortId, layersTopDown} from '../model/ids.ts';
import {layerByChainId} from '../model/indexes.ts';
import {type WhiteoutStyle, driverInfo} from '../read/drivers/registry.ts';

/**
 * A container's or image's filesystem as a stack of layer directories, read in user space: no
 * mount, no root, nothing executed. Directories are merged one level at a time (the entries of
 * one directory across the layers that contribute to it), so memory follows the widest
 * directory and the depth of the walk, never the size of the tree.
 *
 * How each driver stores deletions is its whiteout style (WhiteoutStyle, in the drivers' table).
 */
export type {WhiteoutStyle};

export type FsLayer = {
	/** Directory holding the layer's files, relative to the root. */
	readonly dir: string;
	readonly role: 'rw' | 'init' | 'image';
	readonly cacheId: string;
	readonly chainId: string | null;
};

export type FsView = {
	readonly driver: string;
	readonly style: WhiteoutStyle;
	/** Top first. For a flattened driver, only the top layer (it holds everything). */
	readonly layers: readonly FsLayer[];
	/** What the view is of, for findings: 'container:<id>', 'image:<id>', 'layer:<chain id>'. */
	readonly subject: string;
};

/** Drivers whose layer data is not in plain files of the root (or is not supported yet). */
export function unsupportedDriver(driver: string): string | undefined {
	const info = driverInfo(driver);
	if (info?.whiteouts !== undefined) return undefined;
	return info?.filesUnread ?? `unknown storage driver "${driver}"`;
}

export type ViewResult = {readonly ok: true; readonly view: FsView} | {readonly ok: false; readonly error: string};

/** A view of `layers` (top first) of `driver`; a flattened driver keeps only the top layer. */
export function makeView(driver: string | null, layers: FsLayer[], subject: string): ViewResult {
	if (driver === null) return {ok: false, error: `${subject}: its storage driver is unknown`};
	const why = unsupportedDriver(driver);
	if (why !== undefined) return {ok: false, error: why};
	const info = driverInfo(driver)!;
	const style = info.whiteouts!;
	if (layers.length === 0) return {ok: false, error: `${subject}: no layer directory`};
	if (info.fullImageLayers === true) {
		// Legacy overlay: an image layer is a full (hard-linked) copy in root/, so a view whose top is an
		// image layer is that one directory. A container's RW and init layers keep their changes in
		// upper/ (kernel whiteouts; the RW upper starts as a copy of the init's) over the root/ of the
		// image layer lower-id names: the view is those uppers over the top image layer only.
		const firstImage = layers.findIndex(l => l.role === 'image');
		if (firstImage === 0) return {ok: true, view: {driver, style: 'none', layers: layers.slice(0, 1), subject}};
		return {
			ok: true,
			view: {driver, style, layers: firstImage < 0 ? layers : layers.slice(0, firstImage + 1), subject},
		};
	}
	return {ok: true, view: {driver, style, layers: style === 'none' ? layers.slice(0, 1) : layers, subject}};
}

/** The layers of an image, top first, from the model. */
function imageLayers(model: Model, image: Image): FsLayer[] | string {
	const out: FsLayer[] = [];
	for (const chainId of layersTopDown(image)) {
		const l = layerByChainId(model, chainId, image.driver);
		if (l === undefined || l.path === null || l.cacheId === null)
			return `layer ${chainId} of image ${image.id} is not in the layer store`;
		if (!l.pathExists) return `layer directory ${l.path} is missing`;
		out.push({dir: l.path, role: 'image', cacheId: l.cacheId, chainId: l.chainId});
	}
	return out;
}

/** A container's layers, top first: RW, init, image layers. */
export function containerLayers(container: Container): FsLayer[] | string {
	const layers: FsLayer[] = [];
	for (const c of container.chain) {
		if (c.path === null || c.cacheId === null)
			return `container ${container.id}: a layer of its chain has no directory (see layerlens check)`;
		if (!c.pathExists) return `container ${container.id}: layer directory ${c.path} is missing`;
		layers.push({dir: c.path, role: c.role, cacheId: c.cacheId, chainId: c.chainId ?? null});
	}
	return layers;
}

export function imageView(model: Model, image: Image): ViewResult {
	const layers = imageLayers(model, image);
	if (typeof layers === 'string') return {ok: false, error: layers};
	return makeView(image.driver, layers, `image:${image.id}`);
}

/** A layer and its parents, top first. */
export function layerChain(model: Model, layer: Layer): FsLayer[] | string {
	const out: FsLayer[] = [];
	const seen = new Set<string>();
	for (let l: Layer | undefined = layer; l !== undefined; ) {
		if (seen.has(l.chainId)) return `layer ${layer.chainId}: its parents loop`;
		seen.add(l.chainId);
		if (l.path === null || l.cacheId === null) return `layer ${l.chainId} has no directory`;
		if (!l.pathExists) return `layer directory ${l.path} is missing`;
		out.push({dir: l.path, role: 'image', cacheId: l.cacheId, chainId: l.chainId});
		const parent: string | null = l.parent;
		l = parent === null ? undefined : layerByChainId(model, parent, layer.driver);
		if (parent !== null && l === undefined) return `layer ${parent} (a parent) is not in the layer store`;
	}
	return out;
}

export function join(dir: string, name: string): string {
	return dir === '' ? name : `${dir}/${name}`;
}

export function parentOf(rel: string): string {
	const i = rel.lastIndexOf('/');
	return i < 0 ? '' : rel.slice(0, i);
}

export function baseOf(rel: string): string {
	return rel.slice(rel.lastIndexOf('/') + 1);
}

/** One directory of one layer, classified by the driver's whiteout rules. */
export type LayerDir = {
	/** 'missing' when the layer has nothing at this path; 'not-dir' when it holds a non-directory there. */
	readonly state: 'dir' | 'missing' | 'not-dir' | 'unreadable';
	/** Real entries (not whiteouts, not housekeeping), sorted by name. */
	readonly entries: Entry[];
	/** Names this layer deletes in this directory. */
	readonly whiteouts: string[];
	/** Whether this directory hides everything below it in lower layers. */
	readonly opaque: boolean;
	/** How the opacity was known: the xattr, the aufs marker, or not at all. */
	readonly opaqueBy?: 'xattr' | 'marker';
	readonly error?: SourceError;
};

const WH = '.wh.';
const WH_META = '.wh..wh.';
export const WH_OPQ = '.wh..wh..opq';

function isYes(v: Buffer | undefined): boolean {
	return v !== undefined && v.length >= 1 && v[0] === 0x79 /* y */;
}

/** Whether an overlay directory carries an opaque xattr. */
export function opaqueXattr(source: Source, rel: string): boolean {
	const x = source.xattrs?.(rel);
	if (x === undefined) return false;
	return isYes(x['trusted.overlay.opaque']) || isYes(x['user.overlay.opaque']);
}

/** Whether a stat is an overlay whiteout: a character device 0/0. */
export function isCharWhiteout(st: Stat): boolean {
	return st.kind === 'char' && (st.rdev === undefined || (st.rdev.major === 0 && st.rdev.minor === 0));
}

export function readLayerDir(source: Source, style: WhiteoutStyle, layerDir: string, rel: string): LayerDir {
	const path = join(layerDir, rel);
	const listed = source.list(path);
	if (!listed.ok) {
		const code = listed.error.code;
		if (code === 'missing') return {state: 'missing', entries: [], whiteouts: [], opaque: false};
		if (code === 'not-a-dir' || code === 'symlink') {
			// Which part is not a directory? If it is this path itself, the layer holds a non-directory here.
			return {state: 'not-dir', entries: [], whiteouts: [], opaque: false};
		}
		return {state: 'unreadable', entries: [], whiteouts: [], opaque: false, error: listed.error};
	}
	if (style === 'none') return {state: 'dir', entries: listed.value, whiteouts: [], opaque: false};
	const aufs = style === 'aufs' || style === 'both';
	const overlay = style === 'overlay' || style === 'both';
	const entries: Entry[] = [];
	const whiteouts: string[] = [];
	let opaque = false;
	let opaqueBy: 'xattr' | 'marker' | undefined;
	for (const e of listed.value) {
		if (aufs && e.name.startsWith(WH)) {
			// fuse-overlayfs leaves `.wh.*` 0/0 devices of its own (e.g. `.wh..opq`): markers, not deletions.
			if (style === 'both' && e.kind === 'char') continue;
			if (e.name === WH_OPQ) {
				opaque = true;
				opaqueBy = 'marker';
			} else if (!e.name.startsWith(WH_META)) whiteouts.push(e.name.slice(WH.length));
			continue;
		}
		if (overlay && e.kind === 'char') {
			const st = source.stat(join(path, e.name));
			if (st.ok && isCharWhiteout(st.value)) {
				// fuse-overlayfs also leaves 0/0 devices named `.wh.*` (its own markers): never a visible name.
				whiteouts.push(e.name);
				continue;
			}
		}
		if (style === 'both' && e.name.startsWith(WH)) continue;
		entries.push(e);
	}
	if (overlay && !opaque && rel !== '' && opaqueXattr(source, path)) {
		opaque = true;
		opaqueBy = 'xattr';
	}
	return {state: 'dir', entries, whiteouts, opaque, ...(opaqueBy !== undefined ? {opaqueBy} : {})};
}

/** One entry of a merged directory. */
export type MergedEntry = {
	readonly name: string;
	readonly kind: EntryKind;
	/** Index (in view.layers) of the layer that provides it. */
	readonly layer: number;
	/** For a directory: the layers that contribute to its contents, top first. */
	readonly dirLayers: number[];
};

export type MergedDir = {readonly entries: MergedEntry[]; readonly problems: Finding[]};

/**
 * The merged entries of directory `rel`, given the layers (indices, top first) that contribute
 * to it. Kernel semantics: an upper entry hides lower ones of the same name; only directories
 * merge; a whiteout hides the name below; an opaque directory hides everything below it.
 */
export function mergedDir(source: Source, view: FsView, dirLayers: readonly number[], rel: string): MergedDir {
	const problems: Finding[] = [];
	const found = new Map<string, {entry: MergedEntry; closed: boolean}>();
	const hidden = new Set<string>();
	for (const i of dirLayers) {
		const layer = view.layers[i]!;
		const ld = readLayerDir(source, view.style, layer.dir, rel);
		if (ld.state === 'unreadable') {
			problems.push(
				finding(
					'error',
					'files.unreadable',
					view.subject,
					`cannot list /${rel} in ${layer.role} layer ${shortId(layer.cacheId)}: ${ld.error?.message ?? 'unreadable'}`,
					join(layer.dir, rel),
				),
			);
			continue;
		}
		if (ld.state !== 'dir') continue;
		for (const e of ld.entries) {
			if (hidden.has(e.name)) continue;
			const hit = found.get(e.name);
			if (hit !== undefined) {
				if (hit.closed) continue;
				if (e.kind === 'dir') hit.entry.dirLayers.push(i);
				else hit.closed = true;
				continue;
			}
			found.set(e.name, {
				entry: {name: e.name, kind: e.kind, layer: i, dirLayers: e.kind === 'dir' ? [i] : []},
				closed: e.kind !== 'dir',
			});
		}
		for (const w of ld.whiteouts) {
			const hit = found.get(w);
			if (hit !== undefined) hit.closed = true;
			else hidden.add(w);
		}
		if (ld.opaque) break;
	}
	const entries = [...found.values()].map(f => f.entry);
	entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	return {entries, problems};
}

/** All layers of a view, as the root's contributing layers (the root itself is never opaque). */
export function rootLayers(view: FsView): number[] {
	return view.layers.map((_, i) => i);
}

/** Looks a path up in the merged view without following symlinks; undefined when it is not there. */
export function lookup(
	source: Source,
	view: FsView,
	rel: string,
): {entry: MergedEntry; problems: Finding[]} | undefined {
	const parts = rel === '' ? [] : rel.split('/');
	let layers = rootLayers(view);
	let dir = '';
	const problems: Finding[] = [];
	if (parts.length === 0) return {entry: {name: '', kind: 'dir', layer: 0, dirLayers: layers}, problems};
	let entry: MergedEntry | undefined;
	for (const part of parts) {
		if (entry !== undefined) {
			if (entry.kind !== 'dir') return undefined;
			layers = entry.dirLayers;
		}
		const m = mergedDir(source, view, layers, dir);
		append(problems, m.problems);
		entry = m.entries.find(e => e.name === part);
		if (entry === undefined) return undefined;
		dir = join(dir, part);
	}
	return entry === undefined ? undefined : {entry, problems};
}

/** The path of an entry in the source. */
export function sourcePath(view: FsView, entry: MergedEntry, rel: string): string {
	return join(view.layers[entry.layer]!.dir, rel);
}
