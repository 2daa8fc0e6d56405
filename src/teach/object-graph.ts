/**
 * The containers -> layers -> images graph, as plain nodes and edges for the dot and mermaid
 * renderers: each container points to its RW layer, the RW layer to the init layer, the init
 * layer to the image's top layer, each image layer to its parent; each image points to its top
 * layer, and each container to the image it was created from. A layer shared by several images
 * or containers is one node, so sharing shows as several arrows into it.
 */
import {shortId, statusText} from '../model/ids.ts';
import type {Container, Image, Model} from '../model/types.ts';
import {imageById, layerByChainId} from '../model/indexes.ts';

export type NodeKind = 'container' | 'rw' | 'init' | 'layer' | 'image';

export type GraphNode = {
	readonly id: string;
	readonly kind: NodeKind;
	/** Lines of the label, as stored values (not cleaned: renderers escape and clean). */
	readonly lines: string[];
};

export type GraphEdge = {
	readonly from: string;
	readonly to: string;
	readonly label: string;
	readonly style: 'solid' | 'dashed';
};

export type Graph = {readonly nodes: GraphNode[]; readonly edges: GraphEdge[]};

function step(createdBy: string | null): string | null {
	if (createdBy === null || createdBy === '') return null;
	const s = createdBy
		.replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
		.replace(/^\/bin\/sh -c /, 'RUN ')
		.trim();
	return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

/** The graph of the given containers and images (by default: everything in the model). */
export function buildGraph(
	model: Model,
	containers: readonly Container[] = model.containers,
	images: readonly Image[] = model.images,
): Graph {
	const nodes = new Map<string, GraphNode>();
	const edges: GraphEdge[] = [];
	const edgeKeys = new Set<string>();
	const edge = (from: string, to: string, label: string, style: 'solid' | 'dashed' = 'solid') => {
		const k = `${from}\0${to}`;
		if (edgeKeys.has(k)) return;
		edgeKeys.add(k);
		edges.push({from, to, label, style});
	};
	// Down the parent links in a loop, not by recursion: a layerdb chain can be any length.
	const layerNode = (driver: string, chainId: string): string => {
		const nodeId = (c: string) => `layer_${driver}_${shortId(c)}`;
		let at: string | null | undefined = chainId;
		// Edges in the order the recursive walk gave them: the deepest parent link first.
		const parents: string[][] = [];
		while (at != null && !nodes.has(nodeId(at))) {
			const id = nodeId(at);
			const l = layerByChainId(model, at, driver);
			const by = step(l?.createdBy ?? null);
			nodes.set(id, {
				id,
				kind: 'layer',
				lines: [`layer ${shortId(at)}`, `cache ${shortId(l?.cacheId)}`, ...(by === null ? [] : [by])],
			});
			if (l?.parent != null) parents.push([id, nodeId(l.parent)]);
			at = l?.parent;
		}
		for (let i = parents.length - 1; i >= 0; i--) edge(parents[i]![0]!, parents[i]![1]!, 'parent');
		return nodeId(chainId);
	};
	const imageNode = (i: Image): string => {
		const id = `image_${i.driver}_${shortId(i.id)}`;
		if (!nodes.has(id)) {
			nodes.set(id, {
				id,
				kind: 'image',
				lines: [
					i.tags.length > 0 ? i.tags.join(', ') : i.intermediate ? '<none> (intermediate)' : '<none> (dangling)',
					`image ${shortId(i.id)}`,
				],
			});
			const top = i.chainIds.at(-1);
			if (top !== undefined) edge(id, layerNode(i.driver, top), 'top layer');
		}
		return id;
	};
	for (const c of containers) {
		const cid = `container_${shortId(c.id)}`;
		nodes.set(cid, {id: cid, kind: 'container', lines: [c.name ?? '?', `${shortId(c.id)}  ${statusText(c)}`]});
		const rw = c.chain.find(e => e.role === 'rw');
		const init = c.chain.find(e => e.role === 'init');
		let below = cid;
		if (rw !== undefined) {
			const id = `rw_${shortId(c.id)}`;
			nodes.set(id, {id, kind: 'rw', lines: ['RW layer', `cache ${shortId(rw.cacheId)}`]});
			edge(below, id, 'writes to');
			below = id;
		}
		if (init !== undefined) {
			const id = `init_${shortId(c.id)}`;
			nodes.set(id, {id, kind: 'init', lines: ['init layer', `cache ${shortId(init.cacheId)}-init`]});
			edge(below, id, 'on top of');
			below = id;
		}
		if (c.parentChainId !== null && c.driver !== null) edge(below, layerNode(c.driver, c.parentChainId), 'on top of');
		const img = imageById(model, c.imageId, c.driver);
		if (img !== undefined) edge(cid, imageNode(img), 'created from', 'dashed');
	}
	for (const i of images) imageNode(i);
	return {nodes: [...nodes.values()], edges};
}
