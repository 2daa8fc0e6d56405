/**
 * Where the space goes inside an image, as wagoodman/dive computes it (dive/filetree/efficiency.go,
 * dive/image/analysis.go), from the layer directories instead of a `docker save` tar:
 *
 * - each layer is a tree of the entries its directory holds (its diff: files, directories,
 *   symlinks, whiteouts named as the path they delete); only the leaves are visited (files,
 *   symlinks, empty directories, whiteouts);
 * - a visited path's size is its tar size: a regular file's bytes, 0 for directories, symlinks and a
 *   second hard link to the same inode in the layer; a whiteout's size is 0, or, when it deletes a
 *   directory, the bytes of that directory's subtree in the layers below;
 * - per path: the sum of its sizes over the layers (cumulative) and the smallest; the score is
 *   Σ smallest / Σ cumulative over every visited path (1 when nothing has bytes);
 * - a path visited in two or more layers is an inefficiency; the wasted bytes are the sum of the
 *   inefficiencies' cumulative sizes (dive counts every copy, the kept one too); the user size is
 *   the bytes of every layer but the bottom one, and the wasted user percent is wasted / user size.
 *
 * Opaque directories do not count (dive drops the `.wh..wh..opq` marker). Layers of flattened
 * drivers (vfs, btrfs, legacy overlay: full copies) and of drivers whose files are not in the root
 * are not computed: the result says why, with a finding.
 */
import {type Finding, finding} from '../finding.ts';
import {type WhiteoutStyle, readLayerDir, join, makeView} from '../files/view.ts';
import {layerByChainId} from '../model/indexes.ts';
import type {Image, Layer, Model} from '../model/types.ts';
import type {Source} from '../sources/source.ts';

export type LayerSpace = {
	/** Bottom first, as the image's rootfs. */
	readonly index: number;
	readonly chainId: string;
	readonly cacheId: string | null;
	/** Bytes of the layer's regular files (tar sizes: a hard link's second name counts 0). */
	readonly bytes: number;
	readonly files: number;
	/** The biggest regular files of the layer, biggest first. */
	readonly biggest: ReadonlyArray<{readonly path: string; readonly bytes: number}>;
};

export type Inefficiency = {
	readonly path: string;
	/** How many layers have the path. */
	readonly count: number;
	/** The sum of its sizes in those layers. */
	readonly cumulativeBytes: number;
	/** The layers (indexes, bottom first) that have it. */
	readonly layers: readonly number[];
};

export type ImageSpace = {
	readonly imageId: string;
	readonly tags: readonly string[];
	readonly driver: string;
	/** False: not computed (see reason and findings). */
	readonly computed: boolean;
	readonly reason?: string;
	readonly efficiency: number;
	readonly sizeBytes: number;
	readonly userSizeBytes: number;
	readonly wastedBytes: number;
	/** wasted / user size; null when the image has no user bytes (dive divides by zero there). */
	readonly wastedUserPercent: number | null;
	/** Biggest cumulative size first. */
	readonly inefficiencies: readonly Inefficiency[];
	readonly layers: readonly LayerSpace[];
	readonly findings: readonly Finding[];
};

/** One entry of one layer's tree. */
type Node = {
	readonly path: string;
	readonly dir: boolean;
	readonly size: number;
	readonly leaf: boolean;
	readonly whiteout: boolean;
};

/** How many of a layer's biggest files are kept. */
export const biggestPerLayer = 10;

/** A layer directory's tree, parents before children, sorted by name in each directory. */
function layerTree(source: Source, style: WhiteoutStyle, dir: string, subject: string, findings: Finding[]): Node[] {
	const nodes: Node[] = [];
	const inodes = new Set<number>();
	const stack: string[] = [''];
	while (stack.length > 0) {
		const rel = stack.pop()!;
		const d = readLayerDir(source, style, dir, rel);
		if (d.state !== 'dir') {
			if (d.state === 'unreadable')
				findings.push(
					finding(
						'warning',
						'space.unreadable',
						subject,
						`cannot list /${rel} in the layer ${dir}: ${d.error?.message ?? 'unreadable'}; the figures leave it out`,
						join(dir, rel),
					),
				);
			continue;
		}
		const subdirs: string[] = [];
		for (const e of [...d.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
			const child = join(rel, e.name);
			if (e.kind === 'dir') {
				const inner = readLayerDir(source, style, dir, child);
				const leaf = inner.state === 'dir' && inner.entries.length === 0 && inner.whiteouts.length === 0;
				nodes.push({path: `/${child}`, dir: true, size: 0, leaf, whiteout: false});
				if (!leaf) subdirs.push(child);
				continue;
			}
			let size = 0;
			if (e.kind === 'file') {
				const st = source.stat(join(dir, child));
				if (!st.ok)
					findings.push(
						finding(
							'warning',
							'space.unreadable',
							subject,
							`cannot stat /${child} in the layer ${dir}: ${st.error.message}; counted as 0 bytes`,
							join(dir, child),
						),
					);
				else if (st.value.ino !== undefined && (st.value.nlink ?? 1) > 1 && inodes.has(st.value.ino)) size = 0;
				else {
					size = st.value.size;
					if (st.value.ino !== undefined && (st.value.nlink ?? 1) > 1) inodes.add(st.value.ino);
				}
			}
			nodes.push({path: `/${child}`, dir: false, size, leaf: true, whiteout: false});
		}
		for (const w of d.whiteouts)
			nodes.push({path: `/${join(rel, w)}`, dir: false, size: 0, leaf: true, whiteout: true});
		for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
	}
	return nodes;
}

/** The driver's whiteout style, or why its layers cannot be read. */
function styleOf(driver: string, dir: string, subject: string): WhiteoutStyle | {readonly error: string} {
	const v = makeView(driver, [{dir, role: 'image', cacheId: '', chainId: null}], subject);
	return v.ok ? v.view.style : {error: v.error};
}

/** The bytes under `path` in the stacked tree (the path itself and every descendant). */
function subtreeBytes(stacked: ReadonlyMap<string, {dir: boolean; size: number}>, path: string): number {
	let n = stacked.get(path)?.size ?? 0;
	const prefix = `${path}/`;
	for (const [p, v] of stacked) if (p.startsWith(prefix)) n += v.size;
	return n;
}

function applyLayer(stacked: Map<string, {dir: boolean; size: number}>, nodes: readonly Node[]): void {
	for (const n of nodes) {
		if (!n.whiteout) {
			stacked.set(n.path, {dir: n.dir, size: n.size});
			continue;
		}
		const was = stacked.get(n.path);
		stacked.delete(n.path);
		// Only a directory has descendants to drop (a scan of the tree, so not for each deleted file).
		if (was?.dir !== true) continue;
		const prefix = `${n.path}/`;
		for (const p of [...stacked.keys()]) if (p.startsWith(prefix)) stacked.delete(p);
	}
}

function biggestOf(nodes: readonly Node[]): Array<{path: string; bytes: number}> {
	const top: Array<{path: string; bytes: number}> = [];
	for (const n of nodes) {
		if (n.dir || n.whiteout || n.size === 0) continue;
		if (top.length === biggestPerLayer && n.size <= top[top.length - 1]!.bytes) continue;
		top.push({path: n.path, bytes: n.size});
		top.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1));
		if (top.length > biggestPerLayer) top.pop();
	}
	return top;
}

/** What one path adds up to over the layers that have it. */
type PathTally = {count: number; cumulative: number; min: number; layers: number[]};

type ImageBase = Pick<ImageSpace, 'imageId' | 'tags' | 'driver'>;

/** An image whose figures cannot be computed, with the finding that says why. */
function notComputed(base: ImageBase, subject: string, reason: string, findings: Finding[]): ImageSpace {
	findings.push(
		finding('info', 'space.not-computed', subject, `wasted space not computed for ${base.imageId}: ${reason}`),
	);
	return {
		...base,
		computed: false,
		reason,
		efficiency: 1,
		sizeBytes: 0,
		userSizeBytes: 0,
		wastedBytes: 0,
		wastedUserPercent: null,
		inefficiencies: [],
		layers: [],
		findings,
	};
}

/** The tree of one of the image's layers, or why it cannot be read whole (a string). */
function readLayer(
	source: Source,
	model: Model,
	image: Image,
	chainId: string,
	subject: string,
	findings: Finding[],
): {readonly nodes: Node[]; readonly cacheId: Layer['cacheId']} | string {
	const layer = layerByChainId(model, chainId, image.driver);
	if (layer === undefined) return `its layer ${chainId} is not in the layer store`;
	if (layer.path === null || !layer.pathExists || layer.contentDamage !== undefined)
		return `the directory of its layer ${chainId} cannot be read whole`;
	const style = styleOf(image.driver, layer.path, subject);
	if (typeof style === 'object') return style.error;
	if (style === 'none') return `${image.driver} keeps each layer as a full copy, not as a diff`;
	return {nodes: layerTree(source, style, layer.path, subject, findings), cacheId: layer.cacheId};
}

/** Counts each leaf of a layer against its path (a whiteout of a directory counts what it hides). */
function tallyLayer(
	perPath: Map<string, PathTally>,
	stacked: ReadonlyMap<string, {dir: boolean; size: number}>,
	nodes: readonly Node[],
	index: number,
): void {
	for (const n of nodes) {
		if (!n.leaf) continue;
		const size = n.whiteout ? (stacked.get(n.path)?.dir === true ? subtreeBytes(stacked, n.path) : 0) : n.size;
		const d = perPath.get(n.path) ?? {count: 0, cumulative: 0, min: -1, layers: []};
		d.count++;
		d.cumulative += size;
		if (d.min < 0 || size < d.min) d.min = size;
		d.layers.push(index);
		perPath.set(n.path, d);
	}
}

/** dive's figures for one image (see the module comment). */
export function imageSpace(source: Source, model: Model, image: Image): ImageSpace {
	const subject = `image:${image.id}`;
	const findings: Finding[] = [];
	const base: ImageBase = {imageId: image.id, tags: image.tags, driver: image.driver};
	const perPath = new Map<string, PathTally>();
	const stacked = new Map<string, {dir: boolean; size: number}>();
	const layers: LayerSpace[] = [];
	for (let index = 0; index < image.chainIds.length; index++) {
		const chainId = image.chainIds[index]!;
		const read = readLayer(source, model, image, chainId, subject, findings);
		if (typeof read === 'string') return notComputed(base, subject, read, findings);
		const {nodes, cacheId} = read;
		tallyLayer(perPath, stacked, nodes, index);
		applyLayer(stacked, nodes);
		const files = nodes.filter(n => !n.dir && !n.whiteout);
		layers.push({
			index,
			chainId,
			cacheId,
			bytes: files.reduce((s, n) => s + n.size, 0),
			files: files.length,
			biggest: biggestOf(nodes),
		});
	}
	return computedSpace(base, perPath, layers, findings);
}

/** The image's figures from the tallies of its paths and its layers. */
function computedSpace(
	base: ImageBase,
	perPath: ReadonlyMap<string, PathTally>,
	layers: LayerSpace[],
	findings: Finding[],
): ImageSpace {
	let minimum = 0;
	let discovered = 0;
	const inefficiencies: Inefficiency[] = [];
	for (const [path, d] of perPath) {
		minimum += d.min;
		discovered += d.cumulative;
		if (d.count >= 2) inefficiencies.push({path, count: d.count, cumulativeBytes: d.cumulative, layers: d.layers});
	}
	inefficiencies.sort(
		(a, b) => b.cumulativeBytes - a.cumulativeBytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
	);
	const wastedBytes = inefficiencies.reduce((s, i) => s + i.cumulativeBytes, 0);
	const sizeBytes = layers.reduce((s, l) => s + l.bytes, 0);
	const userSizeBytes = sizeBytes - (layers[0]?.bytes ?? 0);
	return {
		...base,
		computed: true,
		efficiency: discovered === 0 ? 1 : minimum / discovered,
		sizeBytes,
		userSizeBytes,
		wastedBytes,
		wastedUserPercent: userSizeBytes === 0 ? null : wastedBytes / userSizeBytes,
		inefficiencies,
		layers,
		findings,
	};
}
