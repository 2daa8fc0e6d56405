/**
 * A container's stored configs, read when its details are shown: the load worker leaves them out
 * of the model it sends (pack.ts), as the UI shows them for one container at a time. Read through
 * the UI's own Source (read-only, like the layer listings), cached.
 */
import type {Container} from '../model/types.ts';
import {readContainer} from '../read/container-store.ts';
import type {Source} from '../sources/source.ts';
import type {TreeNode} from './tree.ts';

/** Returns the container with config, hostConfig, mountPoints and the stored config.v2.json filled in. */
export type ContainerDetails = (c: Container) => Container;

type Configs = Pick<Container, 'config' | 'hostConfig' | 'mountPoints' | 'stored'>;

export function makeContainerDetails(source: Source, limit = 500): ContainerDetails {
	const cache = new Map<string, Configs>();
	return c => {
		let d = cache.get(c.id);
		if (d === undefined) {
			const raw = readContainer(source, c.id, {hostConfig: true});
			d = {
				config: raw.config ?? null,
				hostConfig: raw.hostConfig ?? null,
				mountPoints: raw.mountPoints ?? null,
				stored: raw.stored ?? null,
			};
			if (cache.size >= limit) cache.clear();
			cache.set(c.id, d);
		}
		return {...c, ...d};
	};
}

/** The node whose details are shown, with its container's configs filled in when they were left out. */
export function withDetails(node: TreeNode, details: ContainerDetails | null): TreeNode {
	return details !== null && node.kind === 'container' ? {...node, container: details(node.container)} : node;
}
