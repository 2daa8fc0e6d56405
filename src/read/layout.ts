import {type Finding, finding} from '../finding.ts';
import {drivers} from './drivers/registry.ts';
import {sourceErrorFinding} from './json-files.ts';
import type {Source} from '../sources/source.ts';

export type Layout = 'v2' | 'v1' | 'unknown';

export type RawLayout = {
	readonly layout: Layout;
	/** Drivers with an image store, `image/<driver>/`. */
	readonly imageStores: string[];
	/** Driver directories present at the top of the root. */
	readonly driverDirs: string[];
	readonly isDockerRoot: boolean;
	/** Pre-1.10: drivers with a `repositories-<driver>` file at the top of the root. */
	readonly v1Repositories: string[];
	readonly findings: Finding[];
};

const markers = new Set([
	'linkgraph.db',
	'containers',
	'image',
	'graph',
	'volumes',
	'network',
	'swarm',
	'trust',
	'plugins',
	'buildkit',
	'containerd',
]);

/** Probes the top of the root: which layout (image/<driver> = 1.10+, graph/ = ≤1.9) and which drivers. */
export function readLayout(source: Source): RawLayout {
	const findings: Finding[] = [];
	const top = source.list('');
	if (!top.ok) {
		return {
			layout: 'unknown',
			imageStores: [],
			driverDirs: [],
			isDockerRoot: false,
			v1Repositories: [],
			findings: [sourceErrorFinding(top.error, 'root', 'root')],
		};
	}
	const names = new Map(top.value.map(e => [e.name, e.kind]));
	const driverDirs = [...names.keys()].filter(n => Object.hasOwn(drivers, n) && names.get(n) === 'dir');
	const isDockerRoot = [...names.keys()].some(n => markers.has(n)) || driverDirs.length > 0;
	const imageStores: string[] = [];
	if (names.get('image') === 'dir') {
		const stores = source.list('image');
		if (stores.ok) {
			for (const e of stores.value) {
				if (e.kind === 'dir') imageStores.push(e.name);
				else if (e.kind === 'symlink')
					findings.push(
						finding('warning', 'file.symlink', 'root', `image/${e.name} is a symlink; not followed`, `image/${e.name}`),
					);
			}
		} else findings.push(sourceErrorFinding(stores.error, 'root', 'image store directory'));
	} else if (names.has('image')) {
		findings.push(finding('error', 'file.not-a-dir', 'root', 'image is not a directory', 'image'));
	}
	let layout: Layout = 'unknown';
	if (imageStores.length > 0) layout = 'v2';
	else if (names.get('graph') === 'dir') layout = 'v1';
	else if (names.get('containers') === 'dir') layout = 'v2';
	const v1Repositories = [...names.keys()]
		.filter(n => n.startsWith('repositories-') && names.get(n) === 'file')
		.map(n => n.slice('repositories-'.length))
		.filter(d => d !== '');
	// moby@v1.10.0 migrate/v1/migratev1.go: the migration leaves graph/, repositories-<driver>,
	// .migration-v1-images.json and .migration-v1-tags behind; the 1.10+ store is what the daemon uses.
	if (layout === 'v2' && (names.get('graph') === 'dir' || names.has('.migration-v1-images.json'))) {
		const what = [
			names.get('graph') === 'dir' ? 'graph/' : '',
			...v1Repositories.map(d => `repositories-${d}`),
			...['.migration-v1-images.json', '.migration-v1-tags'].filter(n => names.has(n)),
		].filter(n => n !== '');
		findings.push(
			finding(
				'info',
				'layout.v1-leftover',
				'root',
				`a pre-1.10 store (${what.join(', ')}) was left by the 1.10 migration; the 1.10+ store image/ is read, the old one is not`,
				names.get('graph') === 'dir' ? 'graph' : '.migration-v1-images.json',
			),
		);
	}
	for (const [name, kind] of names) {
		if (kind === 'symlink')
			findings.push(finding('warning', 'file.symlink', 'root', `${name} is a symlink; not followed`, name));
	}
	return {layout, imageStores, driverDirs, isDockerRoot, v1Repositories, findings};
}
