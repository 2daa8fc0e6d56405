import type {Finding} from '../finding.ts';
import {type RawContainer, listContainerIds, readContainer} from './containers.ts';
import {type RawDriverDir, readDriverDir} from './drivers.ts';
import {type RawImageStore, type StoreParts, readImageStore} from './image-store.ts';
import {type Layout, readLayout} from './layout.ts';
import type {Source} from './source.ts';

/** Everything the readers found, unlinked. */
export type RawHost = {
	readonly location: string;
	readonly sourceKind: 'dir' | 'archive';
	readonly layout: Layout;
	readonly isDockerRoot: boolean;
	readonly stores: ReadonlyMap<string, RawImageStore>;
	readonly driverDirs: ReadonlyMap<string, RawDriverDir>;
	readonly containers: readonly RawContainer[];
	readonly findings: Finding[];
};

/** What to read. `ls` needs containers and references only; everything else needs all. */
export type ReadParts = StoreParts & {readonly driverDirs: boolean; readonly hostConfig: boolean};

export const allParts: ReadParts = {images: true, layers: true, mounts: true, driverDirs: true, hostConfig: true};

/** Reads a whole root: layout, image stores, driver directories and containers. */
export function readHost(source: Source, parts: ReadParts = allParts, onProgress?: (done: number, total: number) => void): RawHost {
	const layout = readLayout(source);
	const findings: Finding[] = [...layout.findings];
	const stores = new Map<string, RawImageStore>();
	for (const driver of layout.imageStores) stores.set(driver, readImageStore(source, driver, parts));
	const {ids, findings: listFindings} = listContainerIds(source);
	findings.push(...listFindings);
	const containers: RawContainer[] = [];
	for (let i = 0; i < ids.length; i++) {
		containers.push(readContainer(source, ids[i]!, {hostConfig: parts.hostConfig}));
		if (onProgress && i % 200 === 0) onProgress(i, ids.length);
	}
	const driverDirs = new Map<string, RawDriverDir>();
	if (parts.driverDirs) {
		const names = new Set([...layout.imageStores, ...layout.driverDirs]);
		for (const c of containers) if (c.driver !== undefined) names.add(c.driver);
		for (const name of [...names].sort()) driverDirs.set(name, readDriverDir(source, name));
	}
	return {
		location: source.location,
		sourceKind: source.kind,
		layout: layout.layout,
		isDockerRoot: layout.isDockerRoot,
		stores,
		driverDirs,
		containers,
		findings,
	};
}
