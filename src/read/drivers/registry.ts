import {type Finding, finding} from '../../finding.ts';
import type {DriverMeta, HostDriverRecord, RawDriverRecord} from './meta.ts';
import {type DriverInfo, driverInfo, drivers, isDriverName} from './table.ts';
import {sourceErrorFinding} from '../json-files.ts';
import type {Source, SourceError} from '../../sources/source.ts';

/**
 * A driver directory read once (readDriverDir): which layers it holds, each layer's content
 * directory, and the driver's own records. Every fact about a driver is an entry of the one table
 * (table.ts, re-exported here). Content-level records (overlay2 `lower`, aufs `layers/<id>`) are
 * read on demand by the checks, not here.
 */
export {
	type DriverInfo,
	type DriverName,
	type WhiteoutStyle,
	driverInfo,
	drivers,
	isDriverName,
	snapshotterRoot,
} from './table.ts';

/** What a driver directory holds: the layer ids that have a directory (or, for devicemapper, a device record) there. */
export type RawDriverDir = {
	readonly name: string;
	readonly present: boolean;
	readonly layerIds: ReadonlySet<string>;
	readonly findings: Finding[];
	/** What the driver records about each layer outside its files (devicemapper, btrfs quotas, windowsfilter layerchain.json), by layer id. */
	readonly records?: ReadonlyMap<string, RawDriverRecord>;
	/** What the driver records about itself (devicemapper's device set and pool files). */
	readonly hostRecords?: readonly HostDriverRecord[];
	/**
	 * overlay2, fuse-overlayfs, legacy overlay: each layer directory's content directory (`<id>/diff`;
	 * legacy overlay `<id>/root` and `<id>/upper`), by its path relative to the root, as listed once.
	 */
	readonly contents?: ReadonlyMap<string, ContentDir>;
};

/** A layer's content directory as found: a directory (`empty`: listed and found empty), or why it cannot be read. */
export type ContentDir =
	| {readonly path: string; readonly state: 'dir'; readonly empty: boolean}
	| {
			readonly path: string;
			readonly state: 'missing' | 'symlink' | 'not-a-dir' | 'unreadable';
			readonly detail: string;
	  };

/**
 * Looks at one content directory: whether it is there, a directory, readable and (`list`) empty.
 * Without `list` (a container's RW or init layer, read as root: emptiness says nothing there and root
 * reads any directory) one lstat answers.
 */
function probeContentDir(source: Source, path: string, list = true): ContentDir {
	if (!list) {
		const st = source.stat(path);
		if (st.ok)
			return st.value.kind === 'dir'
				? {path, state: 'dir', empty: false}
				: st.value.kind === 'symlink'
					? {path, state: 'symlink', detail: 'is a symlink; not followed'}
					: {path, state: 'not-a-dir', detail: `is a ${st.value.kind}, not a directory`};
		if (st.error.code !== 'denied' && st.error.code !== 'io')
			return {
				path,
				state:
					st.error.code === 'missing'
						? 'missing'
						: st.error.code === 'symlink'
							? 'symlink'
							: st.error.code === 'not-a-dir'
								? 'not-a-dir'
								: 'unreadable',
				detail: st.error.message,
			};
	}
	const listed = source.list(path);
	if (listed.ok) return {path, state: 'dir', empty: listed.value.length === 0};
	const e: SourceError = listed.error;
	const state =
		e.code === 'missing'
			? 'missing'
			: e.code === 'symlink'
				? 'symlink'
				: e.code === 'not-a-dir'
					? 'not-a-dir'
					: 'unreadable';
	if (state === 'not-a-dir') {
		const st = source.stat(path);
		if (st.ok && st.value.kind === 'symlink') return {path, state: 'symlink', detail: e.message};
	}
	return {path, state, detail: e.message};
}

/** `imageLayers`: the cache ids of image layers (their content directory is listed, to tell an emptied one); undefined: list every one. */
function readContents(
	source: Source,
	name: string,
	ids: ReadonlySet<string>,
	imageLayers: ReadonlySet<string> | undefined,
): Map<string, ContentDir> | undefined {
	const info = driverInfo(name);
	const subs = info?.contentSubdirs;
	if (info === undefined || subs === undefined) return undefined;
	const asRoot = source.kind === 'dir' && process.getuid?.() === 0;
	const out = new Map<string, ContentDir>();
	for (const id of ids) {
		if (id === 'l' && info.shortLinks === true) continue;
		const image = imageLayers === undefined || imageLayers.has(id);
		for (const sub of subs) {
			const path = `${info.layersDir}/${id}/${sub}`;
			out.set(path, probeContentDir(source, path, !asRoot || (image && sub !== 'upper')));
		}
	}
	return out;
}

/**
 * Lists `<driver>/` (or `aufs/diff`, `vfs/dir`, …) once: one directory read answers "does this layer's
 * directory exist" for every layer. `imageLayers`: the cache ids layerdb names (see readContents).
 */
export function readDriverDir(source: Source, name: string, imageLayers?: ReadonlySet<string>): RawDriverDir {
	if (!isDriverName(name)) {
		return {
			name,
			present: false,
			layerIds: new Set(),
			findings: [finding('warning', 'driver.unknown', `store:${name}`, `unknown storage driver "${name}"`)],
		};
	}
	const info: DriverInfo = drivers[name];
	const listed = source.list(info.layersDir);
	if (!listed.ok) {
		if (listed.error.code === 'missing') {
			// The driver's own records can still be there (devicemapper's pool files without metadata/).
			const top = info.layersDir.split('/')[0]!;
			const meta = top !== info.layersDir && source.stat(top).ok ? driverMeta(source, name, new Set()) : undefined;
			if (meta === undefined) return {name, present: false, layerIds: new Set(), findings: []};
			return {
				name,
				present: false,
				layerIds: new Set(),
				findings: [...meta.findings],
				records: meta.records,
				hostRecords: meta.host,
			};
		}
		return {
			name,
			present: false,
			layerIds: new Set(),
			findings: [sourceErrorFinding(listed.error, `store:${name}`, `driver directory ${info.layersDir}`)],
		};
	}
	const kind = info.presence === 'file' ? 'file' : 'dir';
	const ids = new Set<string>();
	for (const e of listed.value) if (e.kind === kind && info.skipEntry?.(e.name) !== true) ids.add(e.name);
	const meta = driverMeta(source, name, ids);
	const contents = readContents(source, name, ids, imageLayers);
	return {
		name,
		present: true,
		layerIds: ids,
		findings: meta === undefined ? [] : [...meta.findings],
		...(meta !== undefined ? {records: meta.records, hostRecords: meta.host} : {}),
		...(contents !== undefined ? {contents} : {}),
	};
}

/** The driver's own records, for the drivers that keep them (meta.ts). */
function driverMeta(source: Source, name: string, ids: ReadonlySet<string>): DriverMeta | undefined {
	return driverInfo(name)?.readMeta?.(source, ids);
}
