/**
 * The interactive tree, as plain data (no Ink, no React): nodes built from the model, their
 * children built lazily and cached, and `flatten()` that turns the expanded part into rows.
 *
 * Sections: containers (each expands into RW layer → init layer → image layers top down → image),
 * images without containers (each expands into its layers), and findings.
 *
 * Keys are stable paths: `s:<section>`, `c:<container id>`, `c:<id>/<chain index>`, `c:<id>/img`,
 * `i:<driver>:<image id>`, `i:<driver>:<image id>/<layer index>`, `f:<finding index>`.
 */
import {type Finding, type Severity, worse} from '../finding.ts';
import type {ChainEntry, Container, Image, Layer, Model} from '../model/types.ts';
import {layersTopDown} from '../model/ids.ts';
import {driverKey, indexesOf} from '../model/indexes.ts';

export type SectionName = 'containers' | 'images' | 'findings';

/** Findings attached to a node: how many, and the worst severity. */
export type Marks = {readonly count: number; readonly worst: Severity | null};

const noMarks: Marks = {count: 0, worst: null};

type Base = {
	readonly key: string;
	readonly depth: number;
	readonly parent: string | null;
	readonly expandable: boolean;
	/** Findings about this node itself. */
	readonly marks: Marks;
	/** Findings about this node or anything below it (what the `f` filter keeps). */
	readonly total: Marks;
};

export type SectionNode = Base & {readonly kind: 'section'; readonly section: SectionName; readonly count: number};
export type ContainerNode = Base & {readonly kind: 'container'; readonly container: Container};
export type LayerRole = 'rw' | 'init' | 'image';
export type LayerNode = Base & {
	readonly kind: 'layer';
	readonly role: LayerRole;
	/** Position in the container's chain or, for an image's layer, from the top (0 = top). */
	readonly index: number;
	readonly entry: ChainEntry | null;
	readonly layer: Layer | null;
	readonly chainId: string | null;
	readonly container: Container | null;
	readonly image: Image | null;
};
export type ImageNode = Base & {
	readonly kind: 'image';
	readonly image: Image | null;
	readonly imageId: string | null;
	/** Set when this is the last row of a container's chain. */
	readonly container: Container | null;
};
export type FindingNode = Base & {readonly kind: 'finding'; readonly finding: Finding; readonly index: number};
/** Stands for a container's chain while the model is still being read (key `c:<id>/loading`). */
export type LoadingNode = Base & {readonly kind: 'loading'; readonly container: Container};

export type TreeNode = SectionNode | ContainerNode | LayerNode | ImageNode | FindingNode | LoadingNode;

export type TreeIndex = {
	readonly model: Model;
	/**
	 * Only the containers are in yet (the first step of reading, see feed.ts): chains, images,
	 * layers and findings are still being read; a container expands into a "loading…" row.
	 */
	readonly loading: boolean;
	readonly sections: readonly SectionNode[];
	/** Top-level nodes of each section, in display order. */
	readonly tops: ReadonlyMap<SectionName, readonly TreeNode[]>;
	readonly imageByKey: ReadonlyMap<string, Image>;
	readonly layerByKey: ReadonlyMap<string, Layer>;
	readonly findingsBySubject: ReadonlyMap<string, readonly Finding[]>;
	/** Width of the widest container name (capped), so that container rows line up. */
	readonly nameWidth: number;
	/** Children of a node, built on first use and cached. */
	children(node: TreeNode): readonly TreeNode[];
	/** A node by key: top-level nodes directly, children through their parent. */
	node(key: string): TreeNode | undefined;
	/** Where a key sits in tree order (section, top-level index, child index), for comparing positions. */
	position(key: string): readonly number[];
};

function marksOf(findings: readonly Finding[] | undefined): Marks {
	if (findings === undefined || findings.length === 0) return noMarks;
	let worst: Severity = 'info';
	for (const f of findings) worst = worse(worst, f.severity);
	return {count: findings.length, worst};
}

function addMarks(a: Marks, b: Marks): Marks {
	if (b.count === 0) return a;
	if (a.count === 0) return b;
	const worst = worse(a.worst!, b.worst!);
	return {count: a.count + b.count, worst};
}

/** What the tree's nodes are made from: the model, its indexes, and the findings by subject. */
type TreeParts = {
	readonly model: Model;
	readonly loading: boolean;
	readonly findingsBySubject: ReadonlyMap<string, readonly Finding[]>;
	readonly imageByKey: ReadonlyMap<string, Image>;
	readonly layerByKey: ReadonlyMap<string, Layer>;
	readonly layerMarks: (chainId: string | null | undefined) => Marks;
	readonly imageMarks: (id: string | null) => Marks;
};

function treeParts(model: Model, loading: boolean): TreeParts {
	const findingsBySubject = new Map<string, Finding[]>();
	for (const f of model.findings) {
		const list = findingsBySubject.get(f.subject);
		if (list === undefined) findingsBySubject.set(f.subject, [f]);
		else list.push(f);
	}
	const {imageByKey, layerByKey} = indexesOf(model);
	const layerMarks = (chainId: string | null | undefined) =>
		chainId == null ? noMarks : marksOf(findingsBySubject.get(`layer:${chainId}`));
	const imageMarks = (id: string | null) => (id === null ? noMarks : marksOf(findingsBySubject.get(`image:${id}`)));
	return {model, loading, findingsBySubject, imageByKey, layerByKey, layerMarks, imageMarks};
}

/** The top-level nodes of each section: containers, images no container uses, findings. */
function topNodes(t: TreeParts): Map<SectionName, readonly TreeNode[]> {
	const {model, findingsBySubject, layerMarks, imageMarks} = t;
	const containers: ContainerNode[] = model.containers.map(c => {
		const own = marksOf(findingsBySubject.get(`container:${c.id}`));
		let total = own;
		for (const e of c.chain) if (e.role === 'image') total = addMarks(total, layerMarks(e.chainId));
		total = addMarks(total, imageMarks(c.imageId));
		return {
			kind: 'container',
			key: `c:${c.id}`,
			depth: 1,
			parent: 's:containers',
			expandable: true,
			marks: own,
			total,
			container: c,
		};
	});
	const lonely = model.images.filter(i => i.containers.length === 0);
	const images: ImageNode[] = lonely.map(i => {
		const own = imageMarks(i.id);
		let total = own;
		for (const chainId of i.chainIds) total = addMarks(total, layerMarks(chainId));
		return {
			kind: 'image',
			key: `i:${i.driver}:${i.id}`,
			depth: 1,
			parent: 's:images',
			expandable: i.chainIds.length > 0,
			marks: own,
			total,
			image: i,
			imageId: i.id,
			container: null,
		};
	});
	const findings: FindingNode[] = model.findings.map((f, index) => {
		const m = marksOf([f]);
		return {
			kind: 'finding',
			key: `f:${index}`,
			depth: 1,
			parent: 's:findings',
			expandable: false,
			marks: m,
			total: m,
			finding: f,
			index,
		};
	});
	return new Map<SectionName, readonly TreeNode[]>([
		['containers', containers],
		['images', images],
		['findings', findings],
	]);
}

function sectionNode(name: SectionName, nodes: readonly TreeNode[]): SectionNode {
	return {
		kind: 'section',
		key: `s:${name}`,
		depth: 0,
		parent: null,
		expandable: nodes.length > 0,
		marks: noMarks,
		total: nodes.reduce((acc, n) => addMarks(acc, n.total), noMarks),
		section: name,
		count: nodes.length,
	};
}

/** A container's children: its chain (RW, init, image layers), then its image; one "loading…" row while only the containers are read. */
function containerChildren(t: TreeParts, node: ContainerNode): TreeNode[] {
	const c = node.container;
	if (t.loading)
		return [
			{
				kind: 'loading',
				key: `${node.key}/loading`,
				depth: 2,
				parent: node.key,
				expandable: false,
				marks: noMarks,
				total: noMarks,
				container: c,
			},
		];
	const out: TreeNode[] = [];
	c.chain.forEach((e, index) => {
		const layer =
			e.role === 'image' && e.chainId !== undefined ? (t.layerByKey.get(driverKey(c.driver, e.chainId)) ?? null) : null;
		let marks = e.role === 'image' ? t.layerMarks(e.chainId) : noMarks;
		if (e.role !== 'image' && e.cacheId !== null) {
			// The RW and init layers have no subject of their own: a container finding about their directory concerns them.
			const about = (t.findingsBySubject.get(`container:${c.id}`) ?? []).filter(
				f => f.path?.includes(e.cacheId!) && (e.role === 'init') === f.path.includes('-init'),
			);
			marks = marksOf(about);
		}
		out.push({
			kind: 'layer',
			key: `${node.key}/${index}`,
			depth: 2,
			parent: node.key,
			expandable: false,
			marks,
			total: marks,
			role: e.role,
			index,
			entry: e,
			layer,
			chainId: e.chainId ?? null,
			container: c,
			image: null,
		});
	});
	const image = c.imageId === null ? null : (t.imageByKey.get(driverKey(c.driver, c.imageId)) ?? null);
	const m = t.imageMarks(c.imageId);
	out.push({
		kind: 'image',
		key: `${node.key}/img`,
		depth: 2,
		parent: node.key,
		expandable: false,
		marks: m,
		total: m,
		image,
		imageId: c.imageId,
		container: c,
	});
	return out;
}

/** An unused image's children: its layers, top down. */
function imageChildren(t: TreeParts, node: ImageNode): TreeNode[] {
	const i = node.image;
	if (i === null) return [];
	return layersTopDown(i).map((chainId, index) => {
		const m = t.layerMarks(chainId);
		return {
			kind: 'layer',
			key: `${node.key}/${index}`,
			depth: 2,
			parent: node.key,
			expandable: false,
			marks: m,
			total: m,
			role: 'image',
			index,
			entry: null,
			layer: t.layerByKey.get(driverKey(i.driver, chainId)) ?? null,
			chainId,
			container: null,
			image: i,
		} satisfies LayerNode;
	});
}

/** Where a key sits in tree order: [section], [section, top-level index] or [section, top-level index, child]. */
function positionOf(
	sections: readonly SectionNode[],
	tops: ReadonlyMap<SectionName, readonly TreeNode[]>,
): (key: string) => readonly number[] {
	const topIndex = new Map<string, number>();
	for (const nodes of tops.values()) nodes.forEach((n, i) => topIndex.set(n.key, i));
	const sectionIndex = new Map(sections.map((s, i) => [s.key, i]));
	return key => {
		const sec = sectionIndex.get(key);
		if (sec !== undefined) return [sec];
		const [outer] = ancestors(key);
		const slash = key.indexOf('/');
		const top = slash < 0 ? key : key.slice(0, slash);
		const pos = [sectionIndex.get(outer ?? '') ?? 0, topIndex.get(top) ?? 0];
		if (slash >= 0) {
			const rest = key.slice(slash + 1);
			pos.push(rest === 'img' ? Number.MAX_SAFE_INTEGER : rest === 'loading' ? 0 : Number(rest));
		}
		return pos;
	};
}

/** Builds the top of the tree once per model: O(containers + images + findings). */
export function buildTree(model: Model, opts: {readonly loading?: boolean} = {}): TreeIndex {
	const parts = treeParts(model, opts.loading ?? false);
	const tops = topNodes(parts);
	const sections = (['containers', 'images', 'findings'] as const).map(name => sectionNode(name, tops.get(name) ?? []));
	const byKey = new Map<string, TreeNode>();
	for (const s of sections) byKey.set(s.key, s);
	for (const nodes of tops.values()) for (const n of nodes) byKey.set(n.key, n);
	let nameWidth = 4;
	for (const c of model.containers) nameWidth = Math.max(nameWidth, Math.min(24, (c.name ?? '?').length));

	const cache = new Map<string, readonly TreeNode[]>();
	function children(node: TreeNode): readonly TreeNode[] {
		if (node.kind === 'section') return tops.get(node.section) ?? [];
		if (!node.expandable) return [];
		const hit = cache.get(node.key);
		if (hit !== undefined) return hit;
		const made =
			node.kind === 'container'
				? containerChildren(parts, node)
				: node.kind === 'image'
					? imageChildren(parts, node)
					: [];
		cache.set(node.key, made);
		return made;
	}

	function node(key: string): TreeNode | undefined {
		const direct = byKey.get(key);
		if (direct !== undefined) return direct;
		const slash = key.lastIndexOf('/');
		if (slash < 0) return undefined;
		const parent = byKey.get(key.slice(0, slash));
		return parent === undefined ? undefined : children(parent).find(n => n.key === key);
	}

	const {loading, findingsBySubject, imageByKey, layerByKey} = parts;
	return {
		model,
		loading,
		sections,
		tops,
		imageByKey,
		layerByKey,
		findingsBySubject,
		nameWidth,
		children,
		node,
		position: positionOf(sections, tops),
	};
}

/** One visible line of the tree. */
export type Row = {readonly node: TreeNode; readonly expanded: boolean};

/** Whether a top-level node passes the findings filter. Sections and children always pass. */
export function passes(node: TreeNode, filter: boolean): boolean {
	return !filter || node.depth !== 1 || node.total.count > 0;
}

/**
 * The visible rows: sections, their (filtered) top-level nodes, and the children of expanded
 * nodes. O(rows produced): collapsed subtrees are never visited.
 */
export function flatten(tree: TreeIndex, expanded: ReadonlySet<string>, filter: boolean): Row[] {
	const rows: Row[] = [];
	const visit = (node: TreeNode) => {
		const open = node.expandable && expanded.has(node.key);
		rows.push({node, expanded: open});
		if (!open) return;
		for (const child of tree.children(node)) if (passes(child, filter)) visit(child);
	};
	for (const s of tree.sections) visit(s);
	return rows;
}

/** Compares two positions from TreeIndex.position: negative when a comes first. */
export function comparePositions(a: readonly number[], b: readonly number[]): number {
	for (let i = 0; i < Math.max(a.length, b.length); i++) {
		const x = a[i] ?? -1;
		const y = b[i] ?? -1;
		if (x !== y) return x - y;
	}
	return 0;
}

/** The node a finding concerns, when it is in the tree: a container, an image, or the first place a layer appears. */
export function subjectKey(tree: TreeIndex, subject: string): string | null {
	const m = /^(container|image|layer):(.+)$/.exec(subject);
	if (m === null) return null;
	const id = m[2]!;
	const containers = tree.tops.get('containers') ?? [];
	const images = tree.tops.get('images') ?? [];
	if (m[1] === 'container') return containers.some(n => n.key === `c:${id}`) ? `c:${id}` : null;
	if (m[1] === 'image') {
		const lonely = images.find(n => n.kind === 'image' && n.imageId === id);
		if (lonely !== undefined) return lonely.key;
		const user = containers.find(n => n.kind === 'container' && n.container.imageId === id);
		return user === undefined ? null : `${user.key}/img`;
	}
	for (const n of containers) {
		if (n.kind !== 'container') continue;
		const i = n.container.chain.findIndex(e => e.chainId === id);
		if (i >= 0) return `${n.key}/${i}`;
	}
	for (const n of images) {
		if (n.kind !== 'image' || n.image === null) continue;
		const k = layersTopDown(n.image).indexOf(id);
		if (k >= 0) return `${n.key}/${k}`;
	}
	return null;
}

/** The keys of a node's ancestors, outermost first, derived from its key. */
export function ancestors(key: string): string[] {
	const out: string[] = [];
	const section = key.startsWith('c:')
		? 's:containers'
		: key.startsWith('i:')
			? 's:images'
			: key.startsWith('f:')
				? 's:findings'
				: null;
	if (section !== null) out.push(section);
	const slash = key.indexOf('/');
	if (slash >= 0) out.push(key.slice(0, slash));
	return out;
}
