import {openDirSource} from './read/dir-source.ts';
import {type ReadParts, allParts, readHost} from './read/host.ts';
import type {Source} from './read/source.ts';
import {link} from './model/link.ts';
import type {Model} from './model/types.ts';

export type Loaded = {readonly model: Model; readonly source: Source; readonly isDockerRoot: boolean};

/** Opens a root and runs readers → link. */
export function loadModel(source: Source, parts: ReadParts = allParts): Loaded {
	const raw = readHost(source, parts);
	return {model: link(raw), source, isDockerRoot: raw.isDockerRoot};
}

export function openSource(root: string): Source {
	return openDirSource(root);
}
