import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import {buildkitSnapshotName} from '../read/buildkit.ts';
import {shortId} from '../model/ids.ts';
import {listNames, linkTargetId} from '../read/drivers/records.ts';
import {driverInfo} from '../read/drivers/registry.ts';
import {caps} from '../read/json-files.ts';
import type {RawImageStore} from '../read/image-store.ts';
import {type Usage, addUsage, diskUsage, holds} from './size.ts';
import {type Check, type CheckContext, type CheckResult, verdict} from './types.ts';

/**
 * Orphans and leftovers: what is on disk that nothing refers to, and what an interrupted
 * operation left behind. Each finding says what it is, why it matters and how much it holds.
 */

/** Layer directories under a driver, by name: for aufs the union of diff/, layers/ and mnt/. */
function driverEntries(ctx: CheckContext, driver: string, findings: Finding[]): Map<string, string[]> {
	const out = new Map<string, string[]>();
	const add = (name: string, path: string): void => {
		const list = out.get(name) ?? [];
		list.push(path);
		out.set(name, list);
	};
	const info = driverInfo(driver);
	if (info?.entryDirs !== undefined) {
		for (const e of info.entryDirs) {
			const listed = listNames(ctx.source, e.dir, `store:${driver}`);
			append(findings, listed.findings);
			for (const [name, kind] of listed.entries) if (kind === e.kind) add(name, `${e.dir}/${name}`);
		}
		return out;
	}
	if (info === undefined) return out;
	const dir = info.layersDir;
	for (const name of ctx.raw.driverDirs.get(driver)?.layerIds ?? []) {
		if (info.shortLinks === true && name === 'l') continue;
		add(name, `${dir}/${name}`);
	}
	return out;
}

/** What an entry of the driver's layer directory is: a directory, or (devicemapper) a device record. */
function entryName(driver: string): string {
	return driverInfo(driver)?.entryName ?? 'directory';
}

/** What an orphan's paths hold: those of its entry directories that count (aufs: not its layers/ file). */
function sizedPaths(driver: string, paths: readonly string[]): readonly string[] {
	const unsized = (driverInfo(driver)?.entryDirs ?? []).filter(e => e.sized === false).map(e => `${e.dir}/`);
	return unsized.length === 0 ? paths : paths.filter(p => !unsized.some(u => p.startsWith(u)));
}

function usageOf(ctx: CheckContext, paths: readonly string[]): Usage {
	return addUsage(paths.map(p => diskUsage(ctx.source, p)));
}

/** Cache ids of layerdb entries whose removal was interrupted (`<chain>-<rand>-removing`). */
function removingCacheIds(ctx: CheckContext, driver: string): Map<string, string> {
	const out = new Map<string, string>();
	for (const f of ctx.index.store(driver)?.findings ?? []) {
		if (f.code !== 'layer.removing' || f.path === undefined) continue;
		const r = ctx.source.readFile(`${f.path}/cache-id`, caps.small);
		if (r.ok) out.set(r.value.toString('utf8').trim(), f.path);
	}
	return out;
}

/** The image stores of graph drivers (containerd snapshotters keep no layerdb: src/checks/containerd.ts checks them). */
function graphStores(ctx: CheckContext): RawImageStore[] {
	return [...ctx.raw.stores.values()].filter(s => s.layout !== 'containerd');
}

function driverNames(ctx: CheckContext): string[] {
	return [...ctx.raw.driverDirs.values()].filter(d => d.present).map(d => d.name);
}

/** What the store.driver-dirs check knows of one driver while it looks at its entries. */
type DriverScan = {
	readonly ctx: CheckContext;
	readonly driver: string;
	/** Layer directories by name (driverEntries). */
	readonly entries: ReadonlyMap<string, string[]>;
	/** Cache ids of interrupted layerdb removals → their layerdb path. */
	readonly removing: ReadonlyMap<string, string>;
	/** The root has buildkit/: names shaped like BuildKit's are its snapshots. */
	readonly buildkit: boolean;
};

/** The finding for an entry nothing refers to: a BuildKit snapshot, a *-removing leftover, an orphan init layer or an orphan. */
function unreferencedFinding(scan: DriverScan, name: string, paths: readonly string[]): Finding {
	const {ctx, driver, entries} = scan;
	const path = paths[0]!;
	const where = `dir:${path}`;
	const size = holds(usageOf(ctx, sizedPaths(driver, paths)));
	const also = paths.length > 1 ? ` (also ${paths.slice(1).join(', ')})` : '';
	if (scan.buildkit && buildkitSnapshotName.test(name))
		return finding(
			'info',
			'cache.buildkit-snapshot',
			where,
			`${path}${also} is a snapshot of BuildKit's build cache (a BuildKit id, not a layer's, on a root with buildkit/): \`docker builder prune\` removes it; it ${size}`,
			path,
		);
	if (name.endsWith('-removing'))
		return finding(
			'warning',
			'leftover.removing',
			where,
			`${path}${also} is a directory whose removal was interrupted (Docker renames a layer to *-removing, then deletes it): nothing uses it and Docker will not finish the job; it ${size}`,
			path,
		);
	const twin = name.endsWith('-init') ? name.slice(0, -'-init'.length) : undefined;
	const dataDir = driverInfo(driver)?.layersDir ?? driver;
	if (twin !== undefined && !(entries.get(twin) ?? []).includes(`${dataDir}/${twin}`))
		return finding(
			'warning',
			'orphan.init-dir',
			where,
			`${path}${also} is an init layer whose container RW layer ${shortId(twin)}… is gone and that no container refers to (a container removal was interrupted): Docker will never use or remove it; it ${size}`,
			path,
		);
	const rm = scan.removing.get(name);
	const why =
		rm !== undefined
			? `its layerdb entry is being removed (${rm})`
			: 'left by an interrupted removal or a daemon crash';
	return finding(
		'warning',
		'orphan.driver-dir',
		where,
		`${path}${also} is a layer ${entryName(driver)} of the ${driver} driver that no layer, container or init layer refers to (${why}): Docker will never use or remove it; it ${size}`,
		path,
	);
}

/** Short links under <driver>/l/ that point to no layer directory. */
function staleLinkFindings(scan: DriverScan, findings: Finding[]): void {
	const {ctx, driver} = scan;
	const links = ctx.index.links(driver);
	append(findings, links.findings);
	for (const [shortName, target] of links.targets) {
		const id = linkTargetId(target);
		const path = `${driver}/l/${shortName}`;
		if (id === undefined || !scan.entries.has(id)) {
			findings.push(
				finding(
					'info',
					'orphan.link',
					`dir:${path}`,
					`${path} → ${JSON.stringify(target)} points to no layer directory (its layer was removed without it): harmless, but it is a leftover`,
					path,
				),
			);
		}
	}
}

/** The store.driver-dirs verdict for one graph driver's directory. */
function checkDriverDirs(ctx: CheckContext, driver: string): CheckResult {
	const subject = `store:${driver}`;
	const findings: Finding[] = [];
	const entries = driverEntries(ctx, driver, findings);
	const referenced = ctx.index.referenced(driver);
	const scan: DriverScan = {
		ctx,
		driver,
		entries,
		removing: removingCacheIds(ctx, driver),
		buildkit: ctx.source.stat('buildkit').ok,
	};
	let orphans = 0;
	let snapshots = 0;
	for (const [name, paths] of entries) {
		if (referenced.has(name)) continue;
		const f = unreferencedFinding(scan, name, paths);
		if (f.code === 'cache.buildkit-snapshot') snapshots++;
		else orphans++;
		findings.push(f);
	}
	if (driverInfo(driver)?.shortLinks === true) staleLinkFindings(scan, findings);
	const cache = snapshots > 0 ? `, ${snapshots} BuildKit build cache` : '';
	return verdict(
		subject,
		'store.driver-dirs',
		findings,
		`${entries.size} director${entries.size === 1 ? 'y' : 'ies'}, ${orphans} unreferenced${cache}`,
	);
}

/** Driver directories nothing refers to, `-init` directories without their RW twin, `*-removing` directories, stale `l/` links. */
const storeDriverDirs: Check = {
	id: 'store.driver-dirs',
	title: 'every directory in the storage driver belongs to a layer, a container or an init layer',
	objects: 'store',
	codes: ['orphan.driver-dir', 'orphan.init-dir', 'leftover.removing', 'orphan.link', 'cache.buildkit-snapshot'],
	claims: [],
	deep: false,
	run: ctx =>
		// containerd snapshotters: store.snapshot-dirs (src/checks/containerd.ts).
		driverNames(ctx)
			.filter(driver => ctx.index.store(driver)?.layout !== 'containerd')
			.map(driver => checkDriverDirs(ctx, driver)),
};

/** layerdb/mounts entries whose container directory is gone. */
const storeMounts: Check = {
	id: 'store.mounts',
	title: 'every layerdb/mounts entry belongs to a container',
	objects: 'store',
	codes: ['orphan.mount'],
	claims: [],
	deep: false,
	run: ctx =>
		graphStores(ctx).map((store): CheckResult => {
			const subject = `store:${store.driver}`;
			const findings: Finding[] = [];
			for (const m of store.mounts.values()) {
				if (ctx.index.containerIds.has(m.containerId)) continue;
				const dirs: string[] = [];
				const info = driverInfo(store.driver);
				if (info !== undefined) {
					// The whole layer directory where it is wider than its files (overlay2: <id>/ around diff/).
					const base = (id: string): string => info.layerDir?.(id) ?? info.layerPath(id);
					for (const id of [m.mountId, m.initId]) if (id !== undefined) dirs.push(base(id));
				}
				const size = holds(usageOf(ctx, dirs));
				findings.push(
					finding(
						'warning',
						'orphan.mount',
						`mount:${m.containerId}`,
						`layerdb/mounts/${shortId(m.containerId)}… has no container (containers/${shortId(m.containerId)}… is gone: a removal was interrupted): its RW and init layers${dirs.length > 0 ? ` (${dirs.join(', ')})` : ''} are kept for a container Docker no longer knows; they ${size.replace(/^holds/, 'hold')}`,
						m.path,
					),
				);
			}
			return verdict(
				subject,
				'store.mounts',
				findings,
				`${store.mounts.size} mount${store.mounts.size === 1 ? '' : 's'}`,
			);
		}),
};

/** layerdb housekeeping: interrupted removals (reported while reading) and uncommitted write sets in layerdb/tmp. */
const storeLayerdb: Check = {
	id: 'store.layerdb',
	title: 'layerdb holds only committed layers',
	objects: 'store',
	codes: ['leftover.tmp'],
	claims: ['layer.removing', 'entry.unexpected', 'entry.list-capped'],
	deep: false,
	run: ctx =>
		graphStores(ctx).map((store): CheckResult => {
			const subject = `store:${store.driver}`;
			const findings: Finding[] = [];
			const tmp = `image/${store.driver}/layerdb/tmp`;
			const listed = listNames(ctx.source, tmp, subject);
			append(findings, listed.findings);
			for (const name of listed.entries.keys()) {
				const path = `${tmp}/${name}`;
				findings.push(
					finding(
						'warning',
						'leftover.tmp',
						`dir:${path}`,
						`${path} is a layer write that was never committed (Docker writes a layer's metadata there, then moves it into layerdb/sha256): the daemon stopped mid-write; nothing uses it; it ${holds(diskUsage(ctx.source, path))}`,
						path,
					),
				);
			}
			return verdict(subject, 'store.layerdb', findings);
		}),
};

const storeRefs: Check = {
	id: 'store.refs',
	title: 'every tag in repositories.json names an image in the store',
	objects: 'store',
	codes: [],
	claims: ['ref.image-missing'],
	deep: false,
	run: ctx =>
		[...ctx.raw.stores.values()].map(store =>
			verdict(
				`store:${store.driver}`,
				'store.refs',
				[],
				`${store.refs.length} reference${store.refs.length === 1 ? '' : 's'}`,
			),
		),
};

/** The daemon's scratch directory: Docker empties it on start, so anything there is from the last run. */
const rootTmp: Check = {
	id: 'root.tmp',
	title: "the daemon's tmp/ directory is empty",
	objects: 'root',
	codes: ['leftover.daemon-tmp'],
	claims: [],
	deep: false,
	run: ctx => {
		const findings: Finding[] = [];
		const top = listNames(ctx.source, '', 'root');
		for (const dir of ['tmp', 'tmp-old']) {
			if (top.entries.get(dir) !== 'dir') continue;
			const listed = listNames(ctx.source, dir, 'root');
			append(findings, listed.findings);
			if (listed.entries.size === 0) continue;
			findings.push(
				finding(
					'info',
					'leftover.daemon-tmp',
					'root',
					`${dir}/ holds ${listed.entries.size} entr${listed.entries.size === 1 ? 'y' : 'ies'} from the daemon's last run (downloads, builds, exports in progress): Docker wipes it on its next start; it ${holds(diskUsage(ctx.source, dir))}`,
					dir,
				),
			);
		}
		return [verdict('root', 'root.tmp', findings)];
	},
};

export const orphanChecks: readonly Check[] = [storeDriverDirs, storeMounts, storeLayerdb, storeRefs, rootTmp];
