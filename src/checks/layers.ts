import {createHash} from 'node:crypto';
import {type Finding, finding} from '../finding.ts';
import {shortId} from '../model/ids.ts';
import {bytesText, diskUsage, holds} from './size.ts';
import {type Check, pass, skipped, verdict} from './types.ts';

const subjectOf = (chainId: string): string => `layer:${chainId}`;

/**
 * Chain ids recomputed from layerdb: a base layer's chain id is its diff id; any other is
 * sha256("<parent chain id> <diff id>"). The directory name must equal it.
 */
const layerChainId: Check = {
	id: 'layer.chain-id',
	title: "the layer's chain id (its layerdb directory name) follows from its parent and diff id",
	objects: 'layer',
	codes: ['layer.chain-id-mismatch'],
	claims: [],
	deep: false,
	run: ({model, index}) =>
		model.layers.map(l => {
			const subject = subjectOf(l.chainId);
			const raw = index.rawLayer(l.driver, l.chainId);
			const store = index.store(l.driver);
			if (store?.layout === 'v1')
				return skipped(
					subject,
					'layer.chain-id',
					'pre-1.10 layer: its id is random, there is no chain id to recompute',
				);
			const c8d = store?.layout === 'containerd';
			if (raw?.snapshotOnly === true)
				return skipped(
					subject,
					'layer.chain-id',
					"a snapshot in a layer chain that is no image layer (a build container's init snapshot): it has no chain id",
				);
			if (raw?.diffId === undefined)
				return skipped(
					subject,
					'layer.chain-id',
					c8d
						? 'no image in the store lists this snapshot among its layers, so its diff id is unknown'
						: 'its diff file could not be read',
				);
			// containerd: a layer committed on a build container's init snapshot has that snapshot as parent; its chain parent is the layer below it.
			let parent = raw.parent;
			for (let n = 0; parent !== undefined && n < 512 && index.rawLayer(l.driver, parent)?.snapshotOnly === true; n++)
				parent = index.rawLayer(l.driver, parent)?.parent;
			const expected =
				parent === undefined
					? raw.diffId
					: `sha256:${createHash('sha256').update(`${parent} ${raw.diffId}`).digest('hex')}`;
			if (expected === l.chainId) return pass(subject, 'layer.chain-id');
			const how =
				parent === undefined
					? `it has no parent, so its chain id must equal its diff id ${raw.diffId}`
					: `sha256("${parent} ${raw.diffId}") is ${expected}`;
			return verdict(subject, 'layer.chain-id', [
				finding(
					'error',
					'layer.chain-id-mismatch',
					subject,
					c8d
						? `snapshot ${shortId(l.chainId)} is keyed by a chain id its parent snapshot and its images' diff id do not give: ${how}; containerd finds layers by this key, so images whose diff ids lead here get a layer whose content or ancestry is not what they recorded`
						: `layerdb entry ${shortId(l.chainId)} is misnamed or its diff/parent files were changed: ${how}; Docker finds layers by this name, so images whose diff ids lead here get a layer whose content or ancestry is not what they recorded`,
					raw.path,
				),
			]);
		}),
};

/** A layer's `parent` names a layer that is in layerdb. */
export const layerParent: Check = {
	id: 'layer.parent',
	title: "the layer's parent is in layerdb",
	objects: 'layer',
	codes: ['layer.parent-missing'],
	claims: [],
	deep: false,
	run: ({model, index}) =>
		model.layers.map(l => {
			const subject = subjectOf(l.chainId);
			if (l.parent === null) return pass(subject, 'layer.parent', 'base layer');
			if (index.rawLayer(l.driver, l.parent) !== undefined) return pass(subject, 'layer.parent');
			// Pre-1.10 a layer is an image: a missing parent is the image's image.layer-missing.
			if (index.store(l.driver)?.layout === 'v1')
				return skipped(subject, 'layer.parent', 'pre-1.10 layer: a missing parent is reported by image.layers');
			return verdict(subject, 'layer.parent', [
				finding(
					'error',
					'layer.parent-missing',
					subject,
					`its parent layer ${l.parent} is not in layerdb: the layer cannot be mounted or exported, and every image or container built on it is broken`,
					`${l.metaPath}/parent`,
				),
			]);
		}),
};

/** Images' chains compared with the layers they point to (link reports diff and parent mismatches). */
export const layerImages: Check = {
	id: 'layer.images',
	title: "the layer's diff id and parent agree with every image that uses it",
	objects: 'layer',
	codes: [],
	claims: ['layer.diff-mismatch', 'layer.parent-mismatch'],
	deep: false,
	run: ({model}) =>
		model.layers.map(l =>
			pass(subjectOf(l.chainId), 'layer.images', l.images.length === 0 ? 'no image uses it' : undefined),
		),
};

export const layerDir: Check = {
	id: 'layer.dir',
	title:
		"the layer's directory exists in the storage driver, with its content directory (overlay2 diff/, legacy overlay root/) readable and not emptied",
	objects: 'layer',
	codes: [],
	claims: ['layer.dir-missing', 'layer.content-missing', 'layer.content-unreadable', 'layer.content-empty'],
	deep: false,
	run: ({model}) =>
		model.layers.map(l =>
			l.path === null
				? skipped(subjectOf(l.chainId), 'layer.dir', 'no cache id or unknown driver')
				: pass(subjectOf(l.chainId), 'layer.dir'),
		),
};

/** Layers no image and no container uses: leaked disk space Docker will not reclaim. */
const layerUsed: Check = {
	id: 'layer.used',
	title: 'an image or a container uses the layer',
	objects: 'layer',
	codes: ['orphan.layer'],
	claims: [],
	deep: false,
	run: ({model, source}) => {
		// Orphans that are only the parents of other orphans are named as such.
		const orphans = model.layers.filter(l => l.images.length === 0 && l.containers.length === 0);
		const orphanParents = new Map<string, string>();
		for (const l of orphans) if (l.parent !== null) orphanParents.set(`${l.driver}\0${l.parent}`, l.chainId);
		return model.layers.map(l => {
			const subject = subjectOf(l.chainId);
			if (l.images.length > 0 || l.containers.length > 0) return pass(subject, 'layer.used');
			let size: string;
			if (l.size !== null) size = `holds ${bytesText(l.size)} (its layerdb size)`;
			else if (l.path !== null) size = holds(diskUsage(source, l.path));
			else size = 'size unknown';
			const child = orphanParents.get(`${l.driver}\0${l.chainId}`);
			const findings: Finding[] = [
				finding(
					'warning',
					'orphan.layer',
					subject,
					`layer ${shortId(l.chainId)} is in layerdb but no image and no container uses it${child === undefined ? '' : ` (only the unused layer ${shortId(child)} is built on it)`}: Docker never removes such a layer by itself (no image prune reaches it); it ${size}`,
					l.metaPath,
				),
			];
			return verdict(subject, 'layer.used', findings);
		});
	},
};

export const layerChecks: readonly Check[] = [layerChainId, layerParent, layerImages, layerDir, layerUsed];
