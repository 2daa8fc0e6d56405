import fs from 'node:fs';
import path from 'node:path';
import {runFastChecks} from '../../src/checks/index.ts';
import type {Loaded} from '../../src/load.ts';

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
	const findings = runFastChecks({source: loaded.source, raw: loaded.raw, model}).findings.filter(f => f.path !== undefined && /^(orphan|leftover)\./.test(f.code));
	const buildRecords = new Set((model.buildCache?.records ?? []).map(r => r.id));
	return rel => {
		let best: {len: number; e: Expected} | undefined;
		const offer = (prefix: string, e: Expected) => {
			if (under(rel, prefix) && (best === undefined || prefix.length > best.len)) best = {len: prefix.length, e};
		};
		// A short link: the owner of the directory its target names.
		const link = /^([^/]+)\/l\/([^/]+)$/.exec(rel);
		let linked: string | undefined;
		if (link !== null && fs.lstatSync(path.join(root, rel)).isSymbolicLink()) linked = /^\.\.\/([^/]+)\/diff$/.exec(fs.readlinkSync(path.join(root, rel)))?.[1];
		for (const c of model.containers) {
			const name = rel.slice(c.path.length + 1).split('/')[0]!;
			const role = rel === c.path ? 'files' : ['config.v2.json', 'hostconfig.json', 'config.json'].includes(name) ? 'config' : name === `${c.id}-json.log` || name.startsWith(`${c.id}-json.log.`) || name === 'local-logs' ? 'log' : 'files';
			offer(c.path, {kind: 'container', id: c.id, role});
			if (c.driver !== null) offer(`image/${c.driver}/layerdb/mounts/${c.id}`, {kind: 'container', id: c.id, role: 'mount-record'});
			for (const e of c.chain) {
				if (e.role === 'image' || e.path === null) continue;
				for (const d of layerDirs(e.path)) offer(d, {kind: 'container', id: c.id, role: e.role});
				if (linked !== undefined && linked === e.cacheId) offer(rel, {kind: 'container', id: c.id, role: 'short-link'});
			}
		}
		for (const l of model.layers) {
			offer(l.metaPath, {kind: 'layer', id: l.chainId, role: 'layer-record'});
			if (l.path !== null) for (const d of layerDirs(l.path)) offer(d, {kind: 'layer', id: l.chainId, role: 'layer-dir'});
			if (linked !== undefined && linked === l.cacheId) offer(rel, {kind: 'layer', id: l.chainId, role: 'short-link'});
		}
		for (const i of model.images) {
			offer(i.path, {kind: 'image', id: i.id, role: 'image-config'});
			offer(`image/${i.driver}/imagedb/metadata/sha256/${i.id.replace('sha256:', '')}`, {kind: 'image', id: i.id, role: 'image-metadata'});
		}
		for (const v of model.volumes ?? []) {
			offer(`volumes/${v.name}`, {kind: 'volume', id: v.name, role: 'volume-files'});
			offer(`volumes/${v.name}/_data`, {kind: 'volume', id: v.name, role: 'volume-data'});
		}
		for (const f of findings) if (!/^[^/]+\/[0-9a-z]{25}$/.test(f.path!)) offer(f.path!, {kind: 'orphan', id: `${f.code} ${f.path}`, role: 'area'});
		// An orphan layerdb mount's RW and init directories: its finding explains them.
		for (const f of findings) {
			if (f.code !== 'orphan.mount') continue;
			for (const file of ['mount-id', 'init-id']) {
				const at = path.join(root, f.path!, file);
				if (fs.existsSync(at)) for (const d of layerDirs(`${f.path!.split('/')[1]}/${fs.readFileSync(at, 'utf8').trim()}/diff`)) offer(d, {kind: 'orphan', id: `${f.code} ${f.path}`, role: 'area'});
			}
		}
		// BuildKit's snapshot directories beside the layers: build cache (over what a check calls them).
		const bk = /^([^/]+)\/([0-9a-z]{25})(\/|$)/.exec(rel);
		if (bk !== null && model.drivers.includes(bk[1]!)) offer(`${bk[1]}/${bk[2]}`, {kind: 'build-cache', id: buildRecords.has(bk[2]!) ? bk[2]! : '-', role: 'snapshot'});
		if (best !== undefined) return best.e;
		return {kind: 'not an object', id: '', role: ''};
	};
}
