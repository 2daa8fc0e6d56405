import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import {containerFileFindings} from './container-files.ts';
import {type RawContainer, listContainerIds, readContainer, readHostConfig} from './container-store.ts';
import {readContainerdStores} from './containerd/store.ts';
import {type DriverInfo, type RawDriverDir, drivers, isDriverName, readDriverDir} from './drivers/registry.ts';
import {readGraphStore, v1Mount} from './graph-store.ts';
import {type RawImageStore, type StoreParts, readImageStore} from './image-store.ts';
import {type Layout, type RawLayout, readLayout} from './layout.ts';
import {type RawBuildCache, readBuildCache} from './buildkit.ts';
import {type RawNetworks, readNetworks} from './networks.ts';
import type {Source} from '../sources/source.ts';
import {type RawVolumes, readVolumes} from './volumes.ts';

/** One finding per driver whose layer content cannot be read from a copy of the root. */
function driverNotes(driverDirs: readonly string[]): Finding[] {
	const out: Finding[] = [];
	for (const d of driverDirs) {
		if (!isDriverName(d)) continue;
		const info: DriverInfo = drivers[d];
		if (info.contentNote !== undefined)
			out.push(finding('info', 'driver.content-unreadable', `store:${d}`, info.contentNote, d));
	}
	return out;
}

/** Everything the readers found, unlinked. */
export type RawHost = {
	readonly location: string;
	readonly sourceKind: 'dir' | 'archive';
	readonly layout: Layout;
	readonly isDockerRoot: boolean;
	readonly stores: ReadonlyMap<string, RawImageStore>;
	readonly driverDirs: ReadonlyMap<string, RawDriverDir>;
	readonly containers: readonly RawContainer[];
	/** volumes/ (metadata.db, <name>/_data); absent when not read. */
	readonly volumes?: RawVolumes;
	/** network/files/local-kv.db; absent when not read. */
	readonly networks?: RawNetworks;
	/** BuildKit's build cache records (buildkit/metadata_v2.db, buildkit/<worker>/metadata_v2.db); absent when not read. */
	readonly buildCache?: RawBuildCache;
	readonly findings: Finding[];
};

/** What to read. `ls` needs containers and references only; everything else needs all. */
export type ReadParts = StoreParts & {
	readonly driverDirs: boolean;
	readonly hostConfig: boolean;
	/** volumes/ and network/ (bbolt databases); default: whenever driverDirs are read. */
	readonly volumes?: boolean;
};

export const allParts: ReadParts = {images: true, layers: true, mounts: true, driverDirs: true, hostConfig: true};

/** Reads a whole root: layout, image stores, driver directories and containers. */
export function readHost(
	source: Source,
	parts: ReadParts = allParts,
	onProgress?: (done: number, total: number) => void,
): RawHost {
	const layout = readLayout(source);
	const findings: Finding[] = [...layout.findings];
	const stores = new Map<string, RawImageStore>();
	for (const driver of layout.imageStores) stores.set(driver, readImageStore(source, driver, parts));
	const legacy = layout.layout === 'v1';
	const containers = readContainers(source, parts, legacy, findings, onProgress);
	if (legacy) addGraphStore(source, layout, parts, containers, stores, findings);
	// The containerd image store: one store per snapshotter (driver = the snapshotter's name).
	if (!legacy && (parts.images || parts.layers || parts.mounts || parts.driverDirs))
		addContainerdStores(source, parts, containers, stores, findings);
	const driverDirs = parts.driverDirs
		? readDriverDirs(source, layout, containers, stores)
		: new Map<string, RawDriverDir>();
	if (parts.driverDirs) {
		const used = new Set(containers.map(c => c.driver).filter((d): d is string => d !== undefined));
		append(findings, driverNotes([...new Set([...layout.driverDirs, ...used])].sort()));
	}
	const wantVolumes = parts.volumes ?? parts.driverDirs;
	const volumes = wantVolumes ? readVolumes(source) : undefined;
	const networks = wantVolumes ? readNetworks(source) : undefined;
	const buildCache = wantVolumes ? readBuildCache(source) : undefined;
	return {
		location: source.location,
		sourceKind: source.kind,
		layout: layout.layout,
		isDockerRoot: layout.isDockerRoot,
		stores,
		driverDirs,
		containers,
		...(volumes !== undefined ? {volumes} : {}),
		...(networks !== undefined ? {networks} : {}),
		...(buildCache !== undefined ? {buildCache} : {}),
		findings,
	};
}

/** Every container under containers/, the listing's findings added to `findings`. */
function readContainers(
	source: Source,
	parts: ReadParts,
	legacy: boolean,
	findings: Finding[],
	onProgress?: (done: number, total: number) => void,
): RawContainer[] {
	const {ids, findings: listFindings} = listContainerIds(source);
	append(findings, listFindings);
	const containers: RawContainer[] = [];
	for (let i = 0; i < ids.length; i++) {
		const c = readContainer(source, ids[i]!, {hostConfig: parts.hostConfig, legacy});
		// Whenever more than ls reads: hostconfig.json checked (its value kept only when asked), symlinks and unreadable logs in the container's directory.
		if (parts.driverDirs) {
			if (!parts.hostConfig && c.hasConfig) append(c.findings, readHostConfig(source, c.id).findings);
			append(c.findings, containerFileFindings(source, c.id));
		}
		containers.push(c);
		if (onProgress && i % 200 === 0) onProgress(i, ids.length);
	}
	return containers;
}

/** A pre-1.10 root's one graph store, each container's mount in it. */
function addGraphStore(
	source: Source,
	layout: RawLayout,
	parts: ReadParts,
	containers: readonly RawContainer[],
	stores: Map<string, RawImageStore>,
	findings: Finding[],
): void {
	const driver = v1Driver(layout.v1Repositories, layout.driverDirs, containers, findings);
	const store = readGraphStore(source, driver, parts);
	stores.set(driver, store);
	for (const c of containers)
		if (c.hasConfig && (c.driver === undefined || c.driver === driver)) store.mounts.set(c.id, v1Mount(c.id, c.image));
}

/** The containerd image store's stores, one per snapshotter; one named like a graph driver's store is not shown. */
function addContainerdStores(
	source: Source,
	parts: ReadParts,
	containers: readonly RawContainer[],
	stores: Map<string, RawImageStore>,
	findings: Finding[],
): void {
	const c8d = readContainerdStores(source, containers, [...stores.keys()], parts);
	append(findings, c8d.findings);
	for (const [name, store] of c8d.stores) {
		if (stores.has(name)) {
			findings.push(
				finding(
					'warning',
					'layout.containerd-store',
					'root',
					`image/${name}/ and the containerd snapshotter "${name}" share a name; the containerd one is not shown`,
					`image/${name}`,
				),
			);
			continue;
		}
		stores.set(name, store);
	}
}

/** Each driver directory a store, the layout or a container names, in name order. */
function readDriverDirs(
	source: Source,
	layout: RawLayout,
	containers: readonly RawContainer[],
	stores: ReadonlyMap<string, RawImageStore>,
): Map<string, RawDriverDir> {
	const driverDirs = new Map<string, RawDriverDir>();
	const names = new Set([...stores.keys(), ...layout.driverDirs]);
	for (const c of containers) if (c.driver !== undefined) names.add(c.driver);
	for (const name of [...names].sort()) {
		const layers = stores.get(name)?.layers;
		const cacheIds =
			layers === undefined
				? new Set<string>()
				: new Set([...layers.values()].flatMap(l => (l.cacheId === undefined ? [] : [l.cacheId])));
		driverDirs.set(name, readDriverDir(source, name, cacheIds));
	}
	return driverDirs;
}

/**
 * Which driver a pre-1.10 root used: the `repositories-<driver>` file (graph/tags.go names it after
 * the driver), else the containers' `Driver`, else the only driver directory. One driver is read;
 * other repositories files (left when the daemon was restarted with another driver) get an info finding.
 */
function v1Driver(
	repositories: readonly string[],
	driverDirs: readonly string[],
	containers: readonly RawContainer[],
	findings: Finding[],
): string {
	const votes = new Map<string, number>();
	for (const c of containers) if (c.driver !== undefined) votes.set(c.driver, (votes.get(c.driver) ?? 0) + 1);
	const score = (d: string): number => (votes.get(d) ?? 0) * 2 + (driverDirs.includes(d) ? 1 : 0);
	let driver: string | undefined;
	if (repositories.length > 0)
		driver = [...repositories].sort((a, b) => score(b) - score(a) || (a < b ? -1 : a > b ? 1 : 0))[0];
	else if (votes.size > 0) driver = [...votes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
	else if (driverDirs.length === 1) driver = driverDirs[0];
	if (driver === undefined) {
		findings.push(
			finding(
				'warning',
				'layout.v1-driver-unknown',
				'root',
				'pre-1.10 root with no repositories-<driver> file, no container naming its driver and no single driver directory: layer paths are unknown',
				'graph',
			),
		);
		return 'unknown';
	}
	for (const other of repositories) {
		if (other !== driver)
			findings.push(
				finding(
					'info',
					'layout.v1-other-driver',
					'root',
					`repositories-${other} belongs to another storage driver than the one read (${driver}); its tags are not shown`,
					`repositories-${other}`,
				),
			);
	}
	return driver;
}
