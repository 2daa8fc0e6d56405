import {type Finding, finding} from '../finding.ts';
import {shortId} from '../model/ids.ts';
import {drivers, isDriverName} from '../read/drivers/registry.ts';
import type {RawImageStore} from '../read/image-store.ts';
import {diskUsage, holds} from './size.ts';
import {type Check, type CheckContext, type CheckResult, pass, skipped, verdict} from './types.ts';

/**
 * The containerd image store (the reference layout notes §6): content blob integrity, and what its
 * snapshotters hold that nothing uses. A blob is named by the sha256 of its bytes, so a blob
 * whose bytes hash to something else was changed after containerd stored it.
 */

function containerdStores(ctx: CheckContext): RawImageStore[] {
	return [...ctx.raw.stores.values()].filter(s => s.layout === 'containerd');
}

const roleName = {index: 'index', manifest: 'manifest', config: 'config'} as const;

/** The image's index, manifest and config blobs are there and hash to their digests. */
const imageContent: Check = {
	id: 'image.content',
	title:
		"the image's index, manifest and config blobs are in the content store and hash to their digests (containerd store)",
	objects: 'image',
	codes: ['content.blob-mismatch'],
	claims: ['content.blob-missing', 'content.not-read', 'image.platform-ambiguous'],
	deep: false,
	run: ctx => {
		const out: CheckResult[] = [];
		for (const store of containerdStores(ctx)) {
			for (const img of store.images.values()) {
				const subject = `image:${img.id}`;
				const blobs = img.blobs ?? [];
				if (blobs.length === 0) {
					out.push(skipped(subject, 'image.content', 'its blobs were not read'));
					continue;
				}
				const findings: Finding[] = [];
				for (const b of blobs) {
					if (!b.present || b.actual === undefined || b.actual === b.digest) continue;
					const what =
						b.role === 'config'
							? 'config'
							: b.digest === img.id
								? `${roleName[b.role]} (the image id)`
								: roleName[b.role];
					findings.push(
						finding(
							'error',
							'content.blob-mismatch',
							subject,
							`its ${what} blob ${shortId(b.digest)} does not hash to its digest (its bytes hash to ${b.actual}): the file was changed after containerd stored it, so ${b.role === 'config' ? "the image's layers, history and settings shown" : 'what it lists'} may not be what the image was`,
							b.path,
						),
					);
				}
				const read = blobs.filter(b => b.present).length;
				out.push(
					verdict(
						subject,
						'image.content',
						findings,
						`${read} of ${blobs.length} blob${blobs.length === 1 ? '' : 's'} read`,
					),
				);
			}
		}
		return out;
	},
};

/** containerd layers: the snapshot's directory is known (its record in the snapshotter's metadata.db). */
const layerSnapshot: Check = {
	id: 'layer.snapshot',
	title: "the layer's snapshot is in the snapshotter's metadata.db, which names its directory (containerd store)",
	objects: 'layer',
	codes: [],
	claims: ['containerd.snapshot-unmapped', 'layer.init-snapshot'],
	deep: false,
	run: ctx => {
		const out: CheckResult[] = [];
		for (const store of containerdStores(ctx)) {
			for (const l of store.layers.values())
				out.push(
					store.containerd?.snapshotterDbRead === false
						? skipped(`layer:${l.chainId}`, 'layer.snapshot', "the snapshotter's metadata.db could not be read")
						: pass(`layer:${l.chainId}`, 'layer.snapshot'),
				);
		}
		return out;
	},
};

/** Snapshot directories that no record of the snapshotter's metadata.db names. */
const storeSnapshotDirs: Check = {
	id: 'store.snapshot-dirs',
	title: "every directory under the snapshotter's snapshots/ belongs to a snapshot record (containerd store)",
	objects: 'store',
	codes: ['orphan.snapshot-dir'],
	claims: [],
	deep: false,
	run: ctx =>
		containerdStores(ctx).map((store): CheckResult => {
			const subject = `store:${store.driver}`;
			const info = store.containerd;
			const dir = isDriverName(store.driver) ? drivers[store.driver].layersDir : undefined;
			const listed = ctx.raw.driverDirs.get(store.driver);
			if (info === undefined || dir === undefined || listed === undefined || !listed.present)
				return skipped(subject, 'store.snapshot-dirs', 'no snapshots directory');
			if (!info.snapshotterDbRead)
				return skipped(
					subject,
					'store.snapshot-dirs',
					"the snapshotter's metadata.db could not be read, so which directories are in use is unknown",
				);
			const findings: Finding[] = [];
			for (const name of [...listed.layerIds].sort()) {
				if (info.snapshotIds.has(name)) continue;
				const path = `${dir}/${name}`;
				findings.push(
					finding(
						'warning',
						'orphan.snapshot-dir',
						`dir:${path}`,
						`${path} is a snapshot directory that no record of the ${store.driver} snapshotter's metadata.db names (left by an interrupted removal or a crash): containerd will never use it, and only its own cleanup removes it; it ${holds(diskUsage(ctx.source, path))}`,
						path,
					),
				);
			}
			return verdict(
				subject,
				'store.snapshot-dirs',
				findings,
				`${listed.layerIds.size} director${listed.layerIds.size === 1 ? 'y' : 'ies'}, ${findings.length} unreferenced`,
			);
		}),
};

/**
 * meta.db snapshots of namespace moby that nothing uses: a container's RW or init snapshot whose
 * container is gone; and the snapshotter's records of namespace moby that meta.db no longer has.
 */
const storeSnapshots: Check = {
	id: 'store.snapshots',
	title: 'every snapshot of namespace moby belongs to a layer or a container (containerd store)',
	objects: 'store',
	codes: ['orphan.snapshot', 'leftover.snapshot'],
	claims: [],
	deep: false,
	run: ctx =>
		containerdStores(ctx).map((store): CheckResult => {
			const subject = `store:${store.driver}`;
			const info = store.containerd;
			if (info === undefined) return skipped(subject, 'store.snapshots', 'not read');
			const findings: Finding[] = [];
			const dirOf = (id: string | undefined): string[] =>
				id === undefined || !isDriverName(store.driver)
					? []
					: [drivers[store.driver].layerPath(id).replace(/\/fs$/, '')];
			for (const [key, s] of [...info.snapshots].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
				if (store.layers.has(key)) continue;
				const m = /^([0-9a-f]{64})(-init)?$/.exec(key);
				if (m === null) continue; // views, unpacks in progress: containerd's own
				const ctr = m[1]!;
				if (ctx.index.containerIds.has(ctr)) continue;
				const paths = dirOf(s.id);
				const size = paths.length === 0 ? 'its directory is unknown' : holds(diskUsage(ctx.source, paths[0]!));
				findings.push(
					finding(
						'warning',
						'orphan.snapshot',
						`snapshot:${key}`,
						`meta.db snapshot ${shortId(ctr)}${m[2] ?? ''} is the ${m[2] !== undefined ? 'init' : 'RW'} snapshot of container ${shortId(ctr)}, whose containers/ directory is gone (a removal was interrupted): Docker will never use or remove it; it ${size}`,
						info.metaDb,
					),
				);
			}
			if (info.snapshotterDbRead) {
				const named = new Set<string>();
				for (const s of info.snapshots.values()) if (s.name !== undefined) named.add(s.name);
				for (const [id, r] of [...info.snapshotIds].sort((a, b) => Number(a[0]) - Number(b[0]))) {
					if (!r.key.startsWith('moby/') || named.has(r.key)) continue;
					const path = dirOf(id)[0];
					findings.push(
						finding(
							'info',
							'leftover.snapshot',
							`snapshot:${r.key}`,
							`the ${store.driver} snapshotter's record ${JSON.stringify(r.key.slice(0, 200))} (${r.kind}, directory ${id}) has no snapshot in meta.db's namespace moby: containerd's garbage collector removes it at its next run; it ${path === undefined ? 'holds an unknown amount' : holds(diskUsage(ctx.source, path))}`,
							info.snapshotterDb,
						),
					);
				}
			}
			return verdict(
				subject,
				'store.snapshots',
				findings,
				`${info.snapshots.size} snapshot${info.snapshots.size === 1 ? '' : 's'}`,
			);
		}),
};

export const containerdChecks: readonly Check[] = [imageContent, layerSnapshot, storeSnapshotDirs, storeSnapshots];
