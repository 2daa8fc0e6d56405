/**
 * What changed between two snapshots of a Docker root: objects (containers, images, layers)
 * added, removed or changed, and every file added, removed or changed, grouped by the area it
 * belongs to (a container's directory, its mount record, a layer's directory, ...) with what
 * each area and file is for. A guess of the docker commands that explain the difference heads
 * the result. Pure: the two snapshots (model + file listing) are read by the caller.
 */
import {shortId, statusText} from '../model/ids.ts';
import type {Container, Image, Layer, Model} from '../model/types.ts';
import {type AreaKind, type CacheOwner, type Place, areaText, cacheOwners, fileText, placeOf} from '../teach/areas.ts';
import {driverFacts, whatImage, whatImageLayer} from '../teach/explain.ts';
import type {FileInfo, Listing} from './snapshot-walk.ts';
import {containerById, driverKey, imageById, indexesOf} from '../model/indexes.ts';
import {driverInfo} from '../read/drivers/registry.ts';

export type Snapshot = {readonly model: Model; readonly listing: Listing};

export type Change = 'added' | 'removed' | 'changed';

export type ObjectChange = {
	readonly kind: 'container' | 'image' | 'layer';
	readonly change: Change;
	readonly id: string;
	/** Name, tags or a short id. */
	readonly label: string;
	/** For a change: what differs ("status created -> exited (0)"). For an addition: a short description. */
	readonly details: string[];
	readonly explain: string;
};

export type FileChange = {
	readonly path: string;
	readonly change: Change;
	readonly before?: FileInfo;
	readonly after?: FileInfo;
	/** What differs: kind, size, content, mode, owner, target, mount. */
	readonly what: string[];
	readonly note: string | null;
};

export type AreaChange = {
	readonly area: string;
	readonly kind: AreaKind;
	readonly id: string | null;
	/** "container docker_test", "RW layer of docker_test", ... */
	readonly title: string;
	readonly explain: string;
	readonly change: Change;
	readonly files: FileChange[];
};

export type Comparison = {
	/** Docker commands that would explain the difference (a guess from the objects). */
	readonly story: string[];
	readonly objects: ObjectChange[];
	readonly areas: AreaChange[];
	readonly counts: {readonly added: number; readonly removed: number; readonly changed: number};
	readonly notes: string[];
};

export type CompareOptions = {
	/** Ignore content hashes and compare size and mtime instead (live roots; set when not both snapshots were hashed). */
	readonly byTime?: boolean;
};

function containerLabel(c: Container): string {
	return `${c.name ?? '?'} ${shortId(c.id)}`;
}

function imageLabel(i: Image): string {
	return i.tags.length > 0 ? i.tags.join(', ') : `<none> ${shortId(i.id)}`;
}

function same(a: unknown, b: unknown): boolean {
	return JSON.stringify(a) === JSON.stringify(b);
}

function containerChanges(a: Model, b: Model): ObjectChange[] {
	const out: ObjectChange[] = [];
	const before = indexesOf(a).containerById;
	const after = indexesOf(b).containerById;
	for (const c of b.containers) {
		const old = before.get(c.id);
		if (old === undefined) {
			const facts = driverFacts(c.driver);
			const started = c.startedAt !== null;
			out.push({
				kind: 'container',
				change: 'added',
				id: c.id,
				label: containerLabel(c),
				details: [
					`${statusText(c)}, image ${c.imageRef ?? shortId(c.imageId)}`,
					`RW layer ${shortId(c.mountId)}, init layer ${shortId(c.initId)}-init`,
				],
				explain: `docker create wrote containers/<id>/ (config.v2.json, hostconfig.json), the mount record layerdb/mounts/<id>/ and two layers; the ${facts.driver} driver ${facts.onCreate}.${started ? ' It was also started (docker run, or create then start).' : ''}`,
			});
			continue;
		}
		const details: string[] = [];
		if (old.name !== c.name) details.push(`name ${old.name ?? '?'} -> ${c.name ?? '?'}`);
		if (statusText(old) !== statusText(c)) details.push(`status ${statusText(old)} -> ${statusText(c)}`);
		if (old.startedAt !== c.startedAt) details.push(`started ${old.startedAt ?? 'never'} -> ${c.startedAt ?? 'never'}`);
		if (old.finishedAt !== c.finishedAt)
			details.push(`finished ${old.finishedAt ?? 'never'} -> ${c.finishedAt ?? 'never'}`);
		if (old.imageId !== c.imageId) details.push(`image ${shortId(old.imageId)} -> ${shortId(c.imageId)}`);
		if (!same(old.hostConfig, c.hostConfig) && old.hostConfig !== null && c.hostConfig !== null)
			details.push('host config changed (docker update?)');
		if (old.mountId !== c.mountId) details.push(`mount id ${shortId(old.mountId)} -> ${shortId(c.mountId)}`);
		if (details.length === 0) continue;
		const wasStarted = old.startedAt !== c.startedAt && c.startedAt !== null;
		const explain = wasStarted
			? "docker start mounted the container's layers, wrote hostname, hosts and resolv.conf into its directory, opened its log, and recorded the start (and later the end) in the state of config.v2.json. The image and its layers are untouched."
			: old.name !== c.name
				? 'docker rename rewrote the name in config.v2.json; nothing else moves.'
				: 'the state in config.v2.json was rewritten.';
		out.push({kind: 'container', change: 'changed', id: c.id, label: containerLabel(c), details, explain});
	}
	for (const c of a.containers) {
		if (after.has(c.id)) continue;
		out.push({
			kind: 'container',
			change: 'removed',
			id: c.id,
			label: containerLabel(c),
			details: [`was ${statusText(c)}, image ${c.imageRef ?? shortId(c.imageId)}`],
			explain:
				"docker rm deleted the container's directory, its mount record, and its RW and init layers; its image and the image's layers stay.",
		});
	}
	return out;
}

function imageChanges(a: Model, b: Model): ObjectChange[] {
	const out: ObjectChange[] = [];
	const key = (i: Image) => driverKey(i.driver, i.id);
	const before = indexesOf(a).imageByKey;
	const after = indexesOf(b).imageByKey;
	for (const i of b.images) {
		const old = before.get(key(i));
		if (old === undefined) {
			const built = i.history.some(h => (h.createdBy ?? '').includes('#(nop)')) || i.parent !== null;
			out.push({
				kind: 'image',
				change: 'added',
				id: i.id,
				label: imageLabel(i),
				details: [
					`${i.chainIds.length} layer${i.chainIds.length === 1 ? '' : 's'}${i.parent !== null ? `, parent ${shortId(i.parent)}` : ''}${i.intermediate ? ', intermediate' : i.dangling ? ', dangling' : ''}`,
				],
				explain: `${whatImage}${built ? ' The classic builder leaves one image per Dockerfile step, each the parent of the next; every RUN step ran in a temporary container that it removed again.' : ''}`,
			});
			continue;
		}
		const details: string[] = [];
		const added = i.tags.filter(t => !old.tags.includes(t));
		const removed = old.tags.filter(t => !i.tags.includes(t));
		if (added.length > 0) details.push(`tagged ${added.join(', ')}`);
		if (removed.length > 0) details.push(`untagged ${removed.join(', ')}`);
		if (old.dangling !== i.dangling)
			details.push(i.dangling ? 'now dangling (untagged, no children)' : 'no longer dangling');
		if (details.length === 0) continue;
		out.push({
			kind: 'image',
			change: 'changed',
			id: i.id,
			label: imageLabel(i),
			details,
			explain:
				'tags live in repositories.json; moving a tag (docker tag, build -t) rewrites it and touches lastUpdated, the image itself never changes.',
		});
	}
	for (const i of a.images) {
		if (after.has(key(i))) continue;
		out.push({
			kind: 'image',
			change: 'removed',
			id: i.id,
			label: imageLabel(i),
			details: [],
			explain:
				'docker rmi (or image prune) deleted the image config; its layers go too when no other image or container uses them.',
		});
	}
	return out;
}

function layerChanges(a: Model, b: Model): ObjectChange[] {
	const out: ObjectChange[] = [];
	const key = (l: Layer) => driverKey(l.driver, l.chainId);
	const before = indexesOf(a).layerByKey;
	const after = indexesOf(b).layerByKey;
	for (const l of b.layers) {
		if (before.has(key(l))) continue;
		const by =
			l.createdBy === null
				? ''
				: ` <- ${l.createdBy.replace(/^\/bin\/sh -c #\(nop\)\s*/, '').replace(/^\/bin\/sh -c /, 'RUN ')}`;
		out.push({
			kind: 'layer',
			change: 'added',
			id: l.chainId,
			label: `chain ${shortId(l.chainId)}`,
			details: [`cache ${shortId(l.cacheId)}, ${l.path ?? '-'}${by}`],
			explain: `${whatImageLayer} Its record is layerdb/sha256/<chain id>/, its files are in ${driverFacts(l.driver).layerDir('<cache id>')}.`,
		});
	}
	for (const l of a.layers) {
		if (after.has(key(l))) continue;
		out.push({
			kind: 'layer',
			change: 'removed',
			id: l.chainId,
			label: `chain ${shortId(l.chainId)}`,
			details: [`cache ${shortId(l.cacheId)}`],
			explain: 'no image uses this layer any more, so its record and its directory were deleted.',
		});
	}
	return out;
}

function fileDiff(a: FileInfo, b: FileInfo, byTime: boolean): string[] {
	const what: string[] = [];
	if (a.kind !== b.kind) return [`${a.kind} -> ${b.kind}`];
	if (a.kind === 'symlink') {
		if (a.target !== b.target) what.push('target');
	} else if (a.kind === 'file') {
		if (a.size !== b.size) what.push(`size ${a.size} -> ${b.size}`);
		else if (!byTime && a.hash !== undefined && b.hash !== undefined) {
			if (a.hash !== b.hash) what.push('content');
		} else if (Math.floor(a.mtimeMs / 1000) !== Math.floor(b.mtimeMs / 1000) || (byTime && a.mtimeMs !== b.mtimeMs))
			what.push('modified');
	} else if (a.kind === 'char' || a.kind === 'block') {
		if (a.size !== b.size) what.push('device');
	}
	if (a.mode !== b.mode) what.push(`mode ${a.mode.toString(8)} -> ${b.mode.toString(8)}`);
	if (a.uid !== b.uid || a.gid !== b.gid) what.push(`owner ${a.uid}:${a.gid} -> ${b.uid}:${b.gid}`);
	if ((a.mountEntries ?? 0) !== (b.mountEntries ?? 0))
		what.push(`mount point holds ${a.mountEntries ?? 0} -> ${b.mountEntries ?? 0} entries`);
	return what;
}

function areaTitle(place: Place, owner: CacheOwner | undefined, a: Model, b: Model): string {
	const cname = (id: string | null) => {
		const c = id === null ? undefined : (containerById(b, id) ?? containerById(a, id));
		return c === undefined ? shortId(id) : `${c.name ?? '?'} ${shortId(c.id)}`;
	};
	switch (place.kind) {
		case 'container':
			return `container ${cname(place.id)}`;
		case 'mount':
			return `mount record of container ${cname(place.id)}`;
		case 'layer-record':
			return `layer record, chain ${shortId(place.id)}`;
		case 'image-config': {
			const i = imageById(b, `sha256:${place.id}`, null) ?? imageById(a, `sha256:${place.id}`, null);
			return `image config ${i === undefined ? shortId(place.id) : imageLabel(i)}`;
		}
		case 'image-metadata':
			return `image metadata ${shortId(place.id)}`;
		case 'layer-dir':
			if (owner?.role === 'rw') return `RW layer of ${owner.containerName ?? shortId(owner.containerId)}`;
			if (owner?.role === 'init') return `init layer of ${owner.containerName ?? shortId(owner.containerId)}`;
			if (owner?.role === 'image') return `image layer, chain ${shortId(owner.chainId)}`;
			return `layer directory ${shortId(place.id)}${place.id?.endsWith('-init') ? '-init' : ''}`;
		default:
			return place.area;
	}
}

const areaOrder: Record<AreaKind, number> = {
	container: 0,
	mount: 1,
	'layer-dir': 2,
	'driver-links': 3,
	'layer-record': 4,
	'image-config': 5,
	'image-metadata': 6,
	tags: 7,
	'layerdb-tmp': 8,
	distribution: 9,
	volumes: 10,
	network: 11,
	buildkit: 12,
	containerd: 13,
	tmp: 14,
	other: 15,
};

/** Compares two snapshots. */
export function compareSnapshots(before: Snapshot, after: Snapshot, opts: CompareOptions = {}): Comparison {
	const a = before.model;
	const b = after.model;
	const objects = [...containerChanges(a, b), ...imageChanges(a, b), ...layerChanges(a, b)];
	const owners = cacheOwners(b, a);
	const byArea = new Map<string, {place: Place; files: FileChange[]}>();
	const add = (path: string, fc: FileChange) => {
		const place = placeOf(path);
		let g = byArea.get(place.area);
		if (g === undefined) {
			g = {place: {...place, within: ''}, files: []};
			byArea.set(place.area, g);
		}
		const owner = place.kind === 'layer-dir' && place.id !== null ? owners.get(place.id) : undefined;
		g.files.push({...fc, note: fileText(place, owner) ?? deviceNote(place, fc.after ?? fc.before)});
	};
	const byTime = opts.byTime ?? false;
	for (const [path, info] of after.listing.files) {
		const old = before.listing.files.get(path);
		if (old === undefined) add(path, {path, change: 'added', after: info, what: [], note: null});
		else {
			const what = fileDiff(old, info, byTime);
			if (what.length > 0) add(path, {path, change: 'changed', before: old, after: info, what, note: null});
		}
	}
	for (const [path, info] of before.listing.files)
		if (!after.listing.files.has(path)) add(path, {path, change: 'removed', before: info, what: [], note: null});
	const areas: AreaChange[] = [];
	for (const [area, g] of byArea) {
		const owner = g.place.kind === 'layer-dir' && g.place.id !== null ? owners.get(g.place.id) : undefined;
		g.files.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
		const was = anyUnder(before.listing.files, area, g.place);
		const is = anyUnder(after.listing.files, area, g.place);
		const change: Change = !was && is ? 'added' : was && !is ? 'removed' : 'changed';
		areas.push({
			area,
			kind: g.place.kind,
			id: g.place.id,
			title: areaTitle(g.place, owner, a, b),
			explain: areaText(g.place, owner),
			change,
			files: g.files,
		});
	}
	areas.sort((x, y) => areaOrder[x.kind] - areaOrder[y.kind] || (x.area < y.area ? -1 : x.area > y.area ? 1 : 0));
	const counts = {added: 0, removed: 0, changed: 0};
	for (const ar of areas) for (const f of ar.files) counts[f.change]++;
	const notes: string[] = [];
	const daemonOwn = areas
		.filter(
			x =>
				x.kind === 'network' ||
				x.kind === 'containerd' ||
				x.kind === 'buildkit' ||
				x.kind === 'volumes' ||
				x.kind === 'tmp',
		)
		.map(x => x.area);
	if (daemonOwn.length > 0 && objects.length > 0)
		notes.push(
			`${daemonOwn.join(', ')} changed too: the daemon's own state, which changes whenever the daemon starts or runs something`,
		);
	if (before.listing.truncated || after.listing.truncated)
		notes.push('a listing stopped at its entry limit: the file changes are incomplete');
	return {story: story(objects, areas), objects, areas, counts, notes};
}

/** A 0:0 character device in a layer's files is how overlay2 (and fuse-overlayfs) record a deletion. */
function deviceNote(place: Place, info: FileInfo | undefined): string | null {
	if (info?.kind !== 'char' || place.kind !== 'layer-dir') return null;
	if (/^(diff|upper)\//.test(place.within))
		return 'a deletion marker (whiteout): this layer deleted the file of that name';
	if (place.within.startsWith('work/')) return 'left in work/ by the kernel while it moved files into place';
	return null;
}

/** Whether any path of the area exists in a listing (the aufs area spans three directories). */
function anyUnder(files: ReadonlyMap<string, FileInfo>, area: string, place: Place): boolean {
	const dirs = place.kind === 'layer-dir' && place.id !== null ? driverInfo(place.driver)?.entryDirs : undefined;
	if (dirs !== undefined) return dirs.some(e => files.has(`${e.dir}/${place.id}`));
	return files.has(area);
}

/** The docker commands that would explain the objects that changed. */
export function story(objects: readonly ObjectChange[], areas: readonly AreaChange[]): string[] {
	const out: string[] = [];
	const cs = objects.filter(o => o.kind === 'container');
	for (const o of cs) {
		if (o.change === 'added')
			out.push(
				o.details[0]?.startsWith('created')
					? `docker create: container ${o.label}`
					: `docker run (create + start): container ${o.label}`,
			);
		else if (o.change === 'removed') out.push(`docker rm: container ${o.label}`);
		else {
			const st = o.details.find(d => d.startsWith('status '));
			if (o.details.some(d => d.startsWith('name '))) out.push(`docker rename: container ${o.label}`);
			if (st !== undefined && /-> (running|exited)/.test(st) && o.details.some(d => d.startsWith('started ')))
				out.push(`docker start: container ${o.label}${/-> exited/.test(st) ? ' (it has exited since)' : ''}`);
			else if (st !== undefined && /running -> exited/.test(st))
				out.push(`docker stop (or its process ended): container ${o.label}`);
			else if (st !== undefined) out.push(`state change: container ${o.label} ${st.replace(/^status /, '')}`);
		}
	}
	const imagesAdded = objects.filter(o => o.kind === 'image' && o.change === 'added');
	const layersAdded = objects.filter(o => o.kind === 'layer' && o.change === 'added');
	if (imagesAdded.length > 0) {
		const built = imagesAdded.some(o => o.explain.includes('classic builder')) || imagesAdded.length > 1;
		out.push(
			`${built ? 'docker build' : 'docker pull, load, import or commit'}: ${imagesAdded.length} image${imagesAdded.length === 1 ? '' : 's'} and ${layersAdded.length} layer${layersAdded.length === 1 ? '' : 's'} added`,
		);
	}
	const imagesRemoved = objects.filter(o => o.kind === 'image' && o.change === 'removed');
	if (imagesRemoved.length > 0)
		out.push(
			`docker rmi or image prune: ${imagesRemoved.length} image${imagesRemoved.length === 1 ? '' : 's'} removed`,
		);
	const tagged = objects.filter(
		o =>
			o.kind === 'image' &&
			o.change === 'changed' &&
			o.details.some(d => d.startsWith('tagged') || d.startsWith('untagged')),
	);
	for (const t of tagged) out.push(`tag moved: ${t.label} (${t.details.filter(d => d.includes('tagged')).join('; ')})`);
	if (out.length === 0) {
		if (areas.length === 0) out.push('nothing changed');
		else if (
			areas.every(
				a =>
					a.kind === 'network' ||
					a.kind === 'containerd' ||
					a.kind === 'tmp' ||
					a.kind === 'buildkit' ||
					a.kind === 'other' ||
					a.kind === 'volumes',
			)
		)
			out.push("no container, image or layer changed: only the daemon's own state (a daemon restart does this)");
		else out.push('files changed, but no container, image or layer was added or removed');
	}
	return out;
}
