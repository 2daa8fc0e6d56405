import type {Container, Image, Layer, Model} from './types.ts';

export type Resolved =
	| {readonly kind: 'container'; readonly container: Container}
	| {readonly kind: 'image'; readonly image: Image}
	| {readonly kind: 'layer'; readonly layer: Layer};

export type ResolveResult = {readonly ok: true; readonly value: Resolved} | {readonly ok: false; readonly error: string};

const hexPrefix = /^(sha256:)?[0-9a-f]{4,64}$/;

/**
 * Finds what a REF names, in docker's order: a full id, a container name, an image tag
 * (repo:tag, or repo meaning repo:latest), a digest reference, then a unique id prefix of at
 * least 4 hex characters over container ids, image ids, layer chain ids and cache ids.
 */
export function resolveRef(model: Model, ref: string): ResolveResult {
	const bare = ref.replace(/^sha256:/, '');
	const hits = new Map<string, Resolved>();
	const add = (key: string, r: Resolved) => hits.set(key, r);
	// Exact matches first: ids, names, tags.
	for (const c of model.containers) if (c.id === bare || (c.name !== null && (c.name === ref || `/${c.name}` === ref))) add(`c:${c.id}`, {kind: 'container', container: c});
	for (const i of model.images) {
		const tagged = i.tags.includes(ref) || (!ref.includes(':') && i.tags.includes(`${ref}:latest`)) || i.digests.includes(ref);
		if (i.id === `sha256:${bare}` || tagged) add(`i:${i.driver}:${i.id}`, {kind: 'image', image: i});
	}
	for (const l of model.layers) if (l.chainId === `sha256:${bare}` || (l.cacheId !== null && l.cacheId === ref)) add(`l:${l.driver}:${l.chainId}`, {kind: 'layer', layer: l});
	if (hits.size === 0 && hexPrefix.test(ref)) {
		for (const c of model.containers) if (c.id.startsWith(bare)) add(`c:${c.id}`, {kind: 'container', container: c});
		for (const i of model.images) if (i.id.startsWith(`sha256:${bare}`)) add(`i:${i.driver}:${i.id}`, {kind: 'image', image: i});
		for (const l of model.layers) {
			if (l.chainId.startsWith(`sha256:${bare}`) || (l.cacheId !== null && l.cacheId.startsWith(bare))) add(`l:${l.driver}:${l.chainId}`, {kind: 'layer', layer: l});
		}
	}
	if (hits.size === 1) return {ok: true, value: [...hits.values()][0]!};
	if (hits.size === 0) {
		const why = /^[0-9a-f]{1,3}$/.test(bare) ? ' (an id prefix needs at least 4 characters)' : '';
		return {ok: false, error: `no container, image or layer matches "${ref}"${why}`};
	}
	return {ok: false, error: `"${ref}" is ambiguous: it matches ${hits.size} objects; give more of the id`};
}
