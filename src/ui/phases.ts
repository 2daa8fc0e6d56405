/**
 * Reading a root in two steps for the interactive UI: first the containers and tags (what `ls`
 * reads, and all the tree's first frame shows), then everything. The load worker runs this; it
 * is plain code over a Source, so tests run it in-process too.
 *
 * The second step reads the container configs again; they are kept from the first step (a
 * memo in front of the Source), so each file is read once and both steps see the same bytes.
 */
import {loadCheckedModel} from '../load.ts';
import {link} from '../model/link.ts';
import type {Model} from '../model/types.ts';
import {type ReadParts, readHost} from '../read/host.ts';
import type {Source} from '../sources/source.ts';
import {type LoadProgress, countingSource} from './progress.ts';

/** What the first step reads: container configs and repositories.json, like `ls`. */
export const firstParts: ReadParts = {
	images: false,
	layers: false,
	mounts: false,
	driverDirs: false,
	hostConfig: false,
};

const containerConfig = /^containers\/[^/]+\/config\.v2\.json$/;

/** A Source that keeps the container configs it reads, for the second step; `forget()` drops them. */
function memoSource(source: Source): Source & {forget(): void} {
	let kept = new Map<string, ReturnType<Source['readFile']>>();
	return {
		...source,
		readFile(rel, maxBytes) {
			if (!containerConfig.test(rel)) return source.readFile(rel, maxBytes);
			let hit = kept.get(rel);
			if (hit === undefined) {
				hit = source.readFile(rel, maxBytes);
				kept.set(rel, hit);
			}
			return hit;
		},
		forget() {
			kept = new Map();
		},
	};
}

export type PhaseEvents = {
	/** Progress of the first step (at most every 50 ms). */
	readonly progress?: (p: LoadProgress) => void;
	/**
	 * The first step's model: containers only (no images, layers, chains; no findings, which
	 * would be wrong without the rest). Not called when the root is not a Docker root.
	 */
	readonly first: (model: Model) => void;
};

/** Reads `source` in two steps; returns the model loadCheckedModel(source, parts) makes (with the fast checks' findings), or the first step's when it is not a Docker root. */
export function readInPhases(
	source: Source,
	parts: ReadParts,
	on: PhaseEvents,
): {readonly model: Model; readonly isDockerRoot: boolean} {
	const memo = memoSource(source);
	const counted = on.progress === undefined ? memo : countingSource(memo, on.progress);
	const raw = readHost(counted, firstParts);
	if (!raw.isDockerRoot) return {model: link(raw), isDockerRoot: false};
	const first = link(raw);
	on.first({...first, findings: []});
	const {model, isDockerRoot} = loadCheckedModel(memo, parts);
	memo.forget();
	return {model, isDockerRoot};
}
