/**
 * Search over the whole tree (expanded or not): container names, id prefixes, image tags and
 * references, cache ids, chain ids and layer directories, and findings; a container's RW or init
 * layer cache id matches the container too. Returns node keys in
 * tree order; the caller expands what it needs to show a match.
 */
import {imageLabel} from '../view/format.ts';
import {driverKey} from '../model/indexes.ts';
import {type TreeIndex, passes} from './tree.ts';
import {layersTopDown} from '../model/ids.ts';

const bare = (id: string) => id.replace(/^sha256:/, '').toLowerCase();

function idMatch(id: string | null | undefined, q: string): boolean {
	return id != null && q.length > 0 && bare(id).startsWith(q.replace(/^sha256:/, ''));
}

function textMatch(s: string | null | undefined, q: string): boolean {
	return s?.toLowerCase().includes(q) ?? false;
}

/** Keys of the nodes that match, in tree order. Case-insensitive; ids match by prefix, the rest by substring. */
export function findMatches(tree: TreeIndex, query: string, filter: boolean): string[] {
	const q = query.trim().toLowerCase();
	if (q === '') return [];
	const out: string[] = [];
	for (const n of tree.tops.get('containers') ?? []) {
		if (n.kind !== 'container' || !passes(n, filter)) continue;
		const c = n.container;
		// A RW or init layer's whole cache id (or `<mount id>-init`) names its container, as a REF does.
		const ownLayer =
			c.chain.some(e => e.role !== 'image' && e.cacheId !== null && e.cacheId.toLowerCase() === q) ||
			(c.mountId !== null && `${c.mountId}-init`.toLowerCase() === q);
		if (
			textMatch(c.name, q) ||
			idMatch(c.id, q) ||
			textMatch(c.imageRef, q) ||
			c.imageTags.some(t => textMatch(t, q)) ||
			ownLayer
		)
			out.push(n.key);
		c.chain.forEach((e, i) => {
			if (
				idMatch(e.cacheId, q) ||
				textMatch(e.cacheId, q) ||
				textMatch(e.path, q) ||
				idMatch(e.chainId, q) ||
				idMatch(e.diffId, q)
			)
				out.push(`${n.key}/${i}`);
		});
		if (idMatch(c.imageId, q)) out.push(`${n.key}/img`);
	}
	for (const n of tree.tops.get('images') ?? []) {
		if (n.kind !== 'image' || n.image === null || !passes(n, filter)) continue;
		const i = n.image;
		if (idMatch(i.id, q) || textMatch(imageLabel(i), q) || i.digests.some(d => textMatch(d, q))) out.push(n.key);
		layersTopDown(i).forEach((chainId, k) => {
			const l = tree.layerByKey.get(driverKey(i.driver, chainId));
			if (idMatch(chainId, q) || idMatch(l?.cacheId, q) || textMatch(l?.path, q) || idMatch(l?.diffId, q))
				out.push(`${n.key}/${k}`);
		});
	}
	for (const n of tree.tops.get('findings') ?? []) {
		if (n.kind !== 'finding') continue;
		const f = n.finding;
		if (textMatch(f.code, q) || textMatch(f.path, q) || textMatch(f.subject, q)) out.push(n.key);
	}
	return out;
}
