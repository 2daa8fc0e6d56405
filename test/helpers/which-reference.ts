import fs from 'node:fs';
import path from 'node:path';
import {runFastChecks} from '../../src/checks/index.ts';
import {buildOwnerMap, type Owner} from '../../src/disk/path-owner.ts';
import {type Loaded, loadModel, openSource} from '../../src/load.ts';
import * as assert from 'uvu/assert';

/**
 * The owner of a path by brute force, for the `which` tests: every object of the model is tried
 * in turn (no prefix map), a layer's directory is taken from its content path in the model, an
 * `l/` short link from the symlink's target as the host reads it (not from the link files), and the
 * longest matching prefix wins. Answers are compared as `kind id role`.
 */
export type Expected = {readonly kind: string; readonly id: string; readonly role: string};

const under = (rel: string, prefix: string): boolean => rel === prefix || rel.startsWith(`${prefix}/`);

/** A content path's layer entries: `overlay2/<id>/diff` → `overlay2/<id>`; aufs `aufs/diff/<id>` → diff, layers and mnt. */
function layerDirs(contentPath: string): string[] {
	const m = /^aufs\/diff\/([^/]+)$/.exec(contentPath);
	if (m !== null) return ['diff', 'layers', 'mnt'].map(d => `aufs/${d}/${m[1]}`);
	return [contentPath.replace(/\/(diff|fs|root|upper)$/, '')];
}

export function referenceOwners(loaded: Loaded, root: string): (rel: string) => Expected {
	const {model} = loaded;
	const findings = runFastChecks({source: loaded.source, raw: loaded.raw, model}).findings.filter(
		f => f.path !== undefined && /^(orphan|leftover)\./.test(f.code),
	);
	const buildRecords = new Set((model.buildCache?.records ?? []).map(r => r.id));
	return rel => {
		let best: {len: number; e: Expected} | undefined;
		const offer = (prefix: string, e: Expected) => {
			if (under(rel, prefix) && (best === undefined || prefix.length > best.len)) best = {len: prefix.length, e};
		};
		// A short link: the owner of the directory its target names.
		const link = /^([^/]+)\/l\/([^/]+)$/.exec(rel);
		let linked: string | undefined;
		if (link !== null && fs.lstatSync(path.join(root, rel)).isSymbolicLink())
			linked = /^\.\.\/([^/]+)\/diff$/.exec(fs.readlinkSync(path.join(root, rel)))?.[1];
		for (const c of model.containers) {
			const name = rel.slice(c.path.length + 1).split('/')[0]!;
			const role =
				rel === c.path
					? 'files'
					: ['config.v2.json', 'hostconfig.json', 'config.json'].includes(name)
						? 'config'
						: name === `${c.id}-json.log` || name.startsWith(`${c.id}-json.log.`) || name === 'local-logs'
							? 'log'
							: 'files';
			offer(c.path, {kind: 'container', id: c.id, role});
			if (c.driver !== null)
				offer(`image/${c.driver}/layerdb/mounts/${c.id}`, {kind: 'container', id: c.id, role: 'mount-record'});
			for (const e of c.chain) {
				if (e.role === 'image' || e.path === null) continue;
				for (const d of layerDirs(e.path)) offer(d, {kind: 'container', id: c.id, role: e.role});
				if (linked !== undefined && linked === e.cacheId) offer(rel, {kind: 'container', id: c.id, role: 'short-link'});
			}
		}
		for (const l of model.layers) {
			// A layerdb directory is the layer's own record; the containerd store's rows share one database.
			if (l.metaPath.startsWith(`image/${l.driver}/layerdb/sha256/`))
				offer(l.metaPath, {kind: 'layer', id: l.chainId, role: 'layer-record'});
			if (l.path !== null)
				for (const d of layerDirs(l.path)) offer(d, {kind: 'layer', id: l.chainId, role: 'layer-dir'});
			if (linked !== undefined && linked === l.cacheId) offer(rel, {kind: 'layer', id: l.chainId, role: 'short-link'});
		}
		// The containerd store: each image's index, manifest and config blobs, as its reader listed them.
		for (const store of loaded.raw.stores.values())
			for (const r of store.images.values())
				for (const b of r.blobs ?? [])
					offer(b.path, {kind: 'image', id: r.id, role: b.role === 'config' ? 'image-config' : 'image-manifest'});
		for (const i of model.images) {
			offer(i.path, {kind: 'image', id: i.id, role: 'image-config'});
			offer(`image/${i.driver}/imagedb/metadata/sha256/${i.id.replace('sha256:', '')}`, {
				kind: 'image',
				id: i.id,
				role: 'image-metadata',
			});
		}
		for (const v of model.volumes ?? []) {
			offer(`volumes/${v.name}`, {kind: 'volume', id: v.name, role: 'volume-files'});
			offer(`volumes/${v.name}/_data`, {kind: 'volume', id: v.name, role: 'volume-data'});
		}
		for (const f of findings)
			if (!/^[^/]+\/[0-9a-z]{25}$/.test(f.path!))
				offer(f.path!, {kind: 'orphan', id: `${f.code} ${f.path}`, role: 'area'});
		// An orphan layerdb mount's RW and init directories: its finding explains them.
		for (const f of findings) {
			if (f.code !== 'orphan.mount') continue;
			for (const file of ['mount-id', 'init-id']) {
				const at = path.join(root, f.path!, file);
				if (fs.existsSync(at))
					for (const d of layerDirs(`${f.path!.split('/')[1]}/${fs.readFileSync(at, 'utf8').trim()}/diff`))
						offer(d, {kind: 'orphan', id: `${f.code} ${f.path}`, role: 'area'});
			}
		}
		// BuildKit's snapshot directories beside the layers: build cache (over what a check calls them).
		const bk = /^([^/]+)\/([0-9a-z]{25})(\/|$)/.exec(rel);
		if (bk !== null && model.drivers.includes(bk[1]!))
			offer(`${bk[1]}/${bk[2]}`, {kind: 'build-cache', id: buildRecords.has(bk[2]!) ? bk[2]! : '-', role: 'snapshot'});
		if (best !== undefined) return best.e;
		return {kind: 'not an object', id: '', role: ''};
	};
}

/** Every path under a directory (not following symlinks), relative to it. */
export function allPaths(root: string): string[] {
	const out: string[] = [];
	const stack = [''];
	while (stack.length > 0) {
		const rel = stack.pop()!;
		for (const e of fs.readdirSync(path.join(root, rel), {withFileTypes: true})) {
			const child = rel === '' ? e.name : `${rel}/${e.name}`;
			out.push(child);
			if (e.isDirectory()) stack.push(child);
		}
	}
	return out.sort();
}

/** A seeded sample of n paths (all of them when there are fewer). */
export function sample(paths: readonly string[], n: number, seed: number): string[] {
	let s = seed >>> 0;
	const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
	const copy = [...paths];
	for (let i = copy.length - 1; i > 0; i--) {
		const j = Math.floor(next() * (i + 1));
		[copy[i], copy[j]] = [copy[j]!, copy[i]!];
	}
	return copy.slice(0, n);
}

const objectKinds = new Set(['layer', 'container', 'image', 'volume', 'orphan', 'build-cache']);

/** The owner as the reference words it. */
export function asExpected(o: Owner): Expected {
	switch (o.kind) {
		case 'container':
			return {kind: 'container', id: o.containerId!, role: o.role};
		case 'layer':
			return {kind: 'layer', id: o.chainId!, role: o.role};
		case 'image':
			return {kind: 'image', id: o.imageId!, role: o.role};
		case 'volume':
			return {kind: 'volume', id: o.volume!, role: o.role};
		case 'orphan':
			return {kind: 'orphan', id: `${o.finding!.code} ${o.finding!.path}`, role: 'area'};
		case 'build-cache':
			return o.role === 'snapshot'
				? {kind: 'build-cache', id: o.record ?? '-', role: 'snapshot'}
				: {kind: 'not an object', id: '', role: ''};
		default:
			return {kind: 'not an object', id: '', role: ''};
	}
}

/** Checks 1000 sampled paths (all of a smaller root) against the brute-force reference; returns how many of each kind. */
export function compareSample(root: string, seed: number): Map<string, number> {
	const loaded = loadModel(openSource(root));
	const owners = buildOwnerMap(loaded.source, loaded.raw, loaded.model);
	const expect = referenceOwners(loaded, root);
	const kinds = new Map<string, number>();
	for (const rel of sample(allPaths(root), 1000, seed)) {
		const got = owners.ownerOf(rel);
		assert.equal(asExpected(got), expect(rel), rel);
		if (!objectKinds.has(got.kind))
			assert.ok(
				got.kind === 'daemon' ||
					got.kind === 'other' ||
					got.kind.startsWith('containerd') ||
					got.kind === 'build-cache',
				rel,
			);
		kinds.set(got.kind, (kinds.get(got.kind) ?? 0) + 1);
	}
	return kinds;
}
