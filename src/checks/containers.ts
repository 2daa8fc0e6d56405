import {finding} from '../finding.ts';
import {diskUsage, holds} from './size.ts';
import {type Check, type CheckResult, pass, verdict} from './types.ts';

const subjectOf = (id: string): string => `container:${id}`;

/** config.v2.json is there and sound; a container directory without one is a leftover. */
export const containerConfig: Check = {
	id: 'container.config',
	title: "the container's config.v2.json is there and names it",
	objects: 'container',
	codes: ['orphan.container'],
	claims: ['container.field-invalid', 'container.id-mismatch', 'container.legacy-config'],
	deep: false,
	run: ({raw, source}) =>
		raw.containers.map((c): CheckResult => {
			const subject = subjectOf(c.id);
			// RawContainer.path is its config.v2.json.
			const missing = !c.hasConfig && c.findings.some(f => f.code === 'file.missing' && f.path === c.path);
			if (!missing) return pass(subject, 'container.config');
			return verdict(subject, 'container.config', [
				finding(
					'warning',
					'orphan.container',
					subject,
					`containers/${c.id.slice(0, 12)}… has no config.v2.json (left by an interrupted create or remove, or damaged): Docker does not load it, so no docker command shows or removes it; it ${holds(diskUsage(source, `containers/${c.id}`))}`,
					`containers/${c.id}`,
				),
			]);
		}),
};

export const containerMount: Check = {
	id: 'container.mount',
	title: 'layerdb/mounts (containerd: its RW snapshot) has its RW and init layers and the right parent',
	objects: 'container',
	codes: [],
	claims: ['container.store-missing', 'container.mount-missing', 'container.snapshot-missing', 'containerd.snapshot-unmapped', 'mount.field-invalid', 'mount.parent-mismatch', 'mount.parent-missing', 'mount.init-id-unusual'],
	deep: false,
	run: ({raw}) => raw.containers.map(c => pass(subjectOf(c.id), 'container.mount')),
};

export const containerImage: Check = {
	id: 'container.image',
	title: 'the image it was created from is in the store',
	objects: 'container',
	codes: [],
	claims: ['container.image-missing'],
	deep: false,
	run: ({raw}) => raw.containers.map(c => pass(subjectOf(c.id), 'container.image')),
};

export const containerChain: Check = {
	id: 'container.chain',
	title: 'every layer of its chain is in layerdb and has its directory (its RW and init content directories readable)',
	objects: 'container',
	codes: [],
	claims: ['container.layer-missing', 'container.layer-dir-missing', 'container.layer-content-missing', 'container.layer-content-unreadable', 'layer.parent-loop'],
	deep: false,
	run: ({model}) => model.containers.map(c => pass(subjectOf(c.id), 'container.chain', `${c.chain.length} layer${c.chain.length === 1 ? '' : 's'}`)),
};

export const containerChecks: readonly Check[] = [containerConfig, containerMount, containerImage, containerChain];
