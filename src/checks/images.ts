import {finding} from '../finding.ts';
import {shortId} from '../model/ids.ts';
import {bytesText} from './size.ts';
import {type Check, type CheckResult, pass, skipped, verdict} from './types.ts';

const subjectOf = (id: string): string => `image:${id}`;

/** Image id = sha256 of the config file's exact bytes (link reports the mismatch; this lists the pass). */
export const imageId: Check = {
	id: 'image.id',
	title: 'the image id is the sha256 of its config file',
	objects: 'image',
	codes: [],
	claims: ['image.id-mismatch'],
	deep: false,
	run: ({model, index}) =>
		model.images.map(img => {
			const raw = index.store(img.driver)?.images.get(img.id);
			if (index.store(img.driver)?.layout === 'v1')
				return skipped(subjectOf(img.id), 'image.id', 'pre-1.10 image: its id is random, not a content digest');
			if (index.store(img.driver)?.layout === 'containerd') {
				// The id is the digest of the image's manifest or index (image.content reports a mismatch).
				const target = raw?.blobs?.find(b => b.digest === img.id);
				if (target?.actual === undefined)
					return skipped(
						subjectOf(img.id),
						'image.id',
						"containerd store: the image's manifest or index could not be read",
					);
				return target.actual === img.id
					? pass(subjectOf(img.id), 'image.id', 'containerd store: the sha256 of its manifest or index')
					: skipped(subjectOf(img.id), 'image.id', 'containerd store: see image.content');
			}
			if (raw?.contentDigest === undefined)
				return skipped(subjectOf(img.id), 'image.id', 'the config file could not be read');
			return pass(subjectOf(img.id), 'image.id');
		}),
};

/** Every layer of the image's chain (chain ids from its diff ids) is in layerdb. */
export const imageLayers: Check = {
	id: 'image.layers',
	title: "the chain ids computed from the image's diff ids are all in layerdb",
	objects: 'image',
	codes: [],
	claims: ['image.layer-missing', 'image.diff-ids-invalid'],
	deep: false,
	run: ({model}) =>
		model.images.map(img =>
			pass(subjectOf(img.id), 'image.layers', `${img.chainIds.length} layer${img.chainIds.length === 1 ? '' : 's'}`),
		),
};

const imageHistory: Check = {
	id: 'image.history',
	title: "the image's history has one layer-making step per layer",
	objects: 'image',
	codes: [],
	claims: ['image.history-mismatch'],
	deep: false,
	run: ({model}) => model.images.map(img => pass(subjectOf(img.id), 'image.history')),
};

const imageParent: Check = {
	id: 'image.parent',
	title: "the image's recorded parent is an image in the store",
	objects: 'image',
	codes: [],
	claims: ['image.parent-invalid', 'image.parent-missing'],
	deep: false,
	run: ({model}) => model.images.map(img => pass(subjectOf(img.id), 'image.parent')),
};

/** Dangling images: untagged, nothing built on them. Worth knowing, not wrong. */
const imageDangling: Check = {
	id: 'image.dangling',
	title:
		'the image is tagged or is the parent of another image (graph-driver store: a digest reference alone does not count)',
	objects: 'image',
	codes: ['image.dangling'],
	claims: [],
	deep: false,
	run: ({model, index}) =>
		model.images.map((img): CheckResult => {
			const subject = subjectOf(img.id);
			if (!img.dangling) return pass(subject, 'image.dangling');
			// What removing it would free: its layers no other image and no container uses.
			let own = 0;
			let ownCount = 0;
			for (const chainId of img.chainIds) {
				const l = index.layer(img.driver, chainId);
				if (l === undefined || l.containers.length > 0 || l.images.some(id => id !== img.id)) continue;
				own += l.size ?? 0;
				ownCount++;
			}
			const users = img.containers.length;
			const why =
				users > 0
					? `${users} container${users === 1 ? '' : 's'} still use${users === 1 ? 's' : ''} it, so it stays until ${users === 1 ? 'it is' : 'they are'} removed`
					: img.children.length > 0
						? '`docker image prune` keeps it while images are built on it'
						: '`docker image prune` removes it';
			// The graph-driver store calls an image with a digest reference but no tag (pulled by digest) dangling too.
			const what =
				img.digests.length > 0
					? `no tag, only a digest reference (${img.digests[0]}${img.digests.length > 1 ? `, +${img.digests.length - 1}` : ''}: pulled by digest), which this image store counts as dangling`
					: 'untagged and no image is built on it (typically left behind when its tag moved to a rebuild)';
			return verdict(subject, 'image.dangling', [
				finding(
					'info',
					'image.dangling',
					subject,
					`dangling image ${shortId(img.id)}: ${what}; ${why}; ${
						ownCount === 0
							? 'all its layers are shared, so removing it frees no layer'
							: `${ownCount} layer${ownCount === 1 ? '' : 's'} only it uses hold${ownCount === 1 ? 's' : ''} ${bytesText(own)}`
					}`,
					img.path,
				),
			]);
		}),
};

export const imageChecks: readonly Check[] = [imageId, imageLayers, imageHistory, imageParent, imageDangling];
