import {finding} from '../finding.ts';
import {diskUsage, holds} from './size.ts';
import {type Check, type CheckResult, pass, verdict} from './types.ts';
import {shortId} from '../model/ids.ts';

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
					`containers/${shortId(c.id)}… has no config.v2.json (left by an interrupted create or remove, or damaged): Docker does not load it, so no docker command shows or removes it; it ${holds(diskUsage(source, `containers/${c.id}`))}`,
					`containers/${c.id}`,
				),
			]);
		}),
};

const containerMount: Check = {
	id: 'container.mount',
	title: 'layerdb/mounts (containerd: its RW snapshot) has its RW and init layers and the right parent',
	objects: 'container',
	codes: [],
	claims: [
		'container.store-missing',
		'container.mount-missing',
		'container.snapshot-missing',
		'containerd.snapshot-unmapped',
		'mount.field-invalid',
		'mount.parent-mismatch',
		'mount.parent-missing',
		'mount.init-id-unusual',
	],
	deep: false,
	run: ({raw}) => raw.containers.map(c => pass(subjectOf(c.id), 'container.mount')),
};

const containerImage: Check = {
	id: 'container.image',
	title: 'the image it was created from is in the store',
	objects: 'container',
	codes: [],
	claims: ['container.image-missing', 'container.image-removed'],
	deep: false,
	run: ({raw}) => raw.containers.map(c => pass(subjectOf(c.id), 'container.image')),
};

const containerChain: Check = {
	id: 'container.chain',
	title: 'every layer of its chain is in layerdb and has its directory (its RW and init content directories readable)',
	objects: 'container',
	codes: [],
	claims: [
		'container.layer-missing',
		'container.layer-dir-missing',
		'container.layer-content-missing',
		'container.layer-content-unreadable',
		'layer.parent-loop',
	],
	deep: false,
	run: ({model}) =>
		model.containers.map(c =>
			pass(subjectOf(c.id), 'container.chain', `${c.chain.length} layer${c.chain.length === 1 ? '' : 's'}`),
		),
};

/** What a container left half-removed still holds: containers/<id> and its RW and init layers. */
function leftBehind(
	source: Parameters<typeof diskUsage>[0],
	c: {id: string; chain: readonly {role: string; path: string | null}[]},
): string {
	const parts = [`containers/${c.id}`, ...c.chain.filter(e => e.role !== 'image' && e.path !== null).map(e => e.path!)];
	let bytes = 0;
	let complete = true;
	let entries = 0;
	for (const p of parts) {
		const u = diskUsage(source, p);
		bytes += u.bytes;
		entries += u.entries;
		complete &&= u.complete;
	}
	return `${holds({bytes, entries, complete, exists: true})} (${parts.join(', ')})`;
}

/**
 * A removal that did not finish. `docker rm` first sets State.RemovalInProgress, then deletes the RW
 * and init layers and containers/<id>; a daemon that stops in between leaves the flag set, and at its
 * next start marks the container dead (State.Dead, moby daemon/daemon.go restore); `docker rm` on a
 * dead container finishes the removal.
 */
const containerRemoval: Check = {
	id: 'container.removal',
	title: 'no removal left half done (State.RemovalInProgress, State.Dead)',
	objects: 'container',
	codes: ['container.removal-interrupted', 'container.dead'],
	claims: [],
	deep: false,
	run: ({model, source}) =>
		model.containers.map((c): CheckResult => {
			const subject = subjectOf(c.id);
			if (c.status === 'removing') {
				return verdict(subject, 'container.removal', [
					finding(
						'warning',
						'container.removal-interrupted',
						subject,
						`docker rm of this container did not finish: State.RemovalInProgress is set, so the daemon stopped (or crashed) while removing it, and its RW and init layers may be partly deleted already. At its next start the daemon marks it dead (State.Dead), and \`docker rm\` then finishes the removal; until then it ${leftBehind(source, c)}`,
						`containers/${c.id}/config.v2.json`,
					),
				]);
			}
			if (c.status === 'dead') {
				return verdict(subject, 'container.removal', [
					finding(
						'warning',
						'container.dead',
						subject,
						`the daemon marked this container dead (State.Dead): a removal failed or was interrupted (the daemon marks a container it finds with RemovalInProgress dead when it starts). It cannot be started; \`docker rm\` removes it; until then it ${leftBehind(source, c)}`,
						`containers/${c.id}/config.v2.json`,
					),
				]);
			}
			return pass(subject, 'container.removal');
		}),
};

export const containerChecks: readonly Check[] = [
	containerConfig,
	containerMount,
	containerImage,
	containerChain,
	containerRemoval,
];
