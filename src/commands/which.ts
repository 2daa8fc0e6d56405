import {append} from '../append.ts';
import path from 'node:path';
import {type Owner, buildOwnerMap} from '../disk/path-owner.ts';
import type {EntryKind} from '../sources/source.ts';
import {shortId} from '../view/format.ts';
import {type Line, type Segment, plainLines, t} from '../view/line.ts';
import {type CommandContext, json} from './context.ts';

/** One PATH's answer: where it is in the root, whether it is there, and who owns it. */
export type WhichAnswer = {
	/** As given. */
	readonly path: string;
	/** Relative to the root; null when the path is not under it. */
	readonly rel: string | null;
	readonly exists: boolean;
	readonly type: EntryKind | null;
	/** Null when the path is not under the root or not there. */
	readonly owner: Owner | null;
	/** Why there is no owner. */
	readonly error?: string;
};

/**
 * A PATH as a path relative to the root: an absolute path under the root (or, with
 * --containerd-root, under that root: shown at its place in the Docker root), or a path relative to
 * the root. Lexical only: nothing on the host is resolved, no symlink followed. Null: not under it.
 */
export function relativeToRoot(
	given: string,
	rootLocation: string,
	mounted?: {readonly location: string; readonly shownAs: string},
): string | null {
	const under = (abs: string, base: string): string | null => {
		const r = path.relative(path.resolve(base), abs);
		return r === '' ? '' : r.startsWith('..') || path.isAbsolute(r) ? null : r.split(path.sep).join('/');
	};
	if (path.isAbsolute(given)) {
		const abs = path.resolve(given);
		if (mounted !== undefined) {
			const inner = under(abs, mounted.location);
			if (inner !== null) return inner === '' ? mounted.shownAs : `${mounted.shownAs}/${inner}`;
		}
		return under(abs, rootLocation);
	}
	const norm = path.posix.normalize(given).replace(/\/+$/, '');
	if (norm === '.' || norm === '') return '';
	return norm === '..' || norm.startsWith('../') ? null : norm;
}

const roleWords: Record<string, string> = {
	rw: 'RW layer',
	init: 'init layer',
	config: 'config',
	log: 'log',
	files: 'files',
	'mount-record': 'layer-store record',
	'layer-dir': 'directory',
	'layer-record': 'layerdb record',
	'short-link': 'l/ short name',
	'image-config': 'config',
	'image-metadata': 'metadata',
	'image-manifest': 'manifest',
	'volume-data': 'data',
	'volume-files': 'directory',
};

/** The owner's name, as a person reads it: `container web 9949fa153b77 (RW layer)`. */
function ownerLabel(o: Owner): Line {
	const role = roleWords[o.role];
	const r = role === undefined ? '' : ` (${role})`;
	switch (o.kind) {
		case 'layer':
			return t`layer ${shortId(o.chainId)}${r}`;
		case 'container':
			return o.containerName === null || o.containerName === undefined
				? t`container ${shortId(o.containerId)}${r}`
				: t`container ${o.containerName} ${shortId(o.containerId)}${r}`;
		case 'image':
			return t`image ${o.tags !== undefined && o.tags.length > 0 ? o.tags[0]! : shortId(o.imageId)}${r}`;
		case 'volume':
			return t`volume ${o.volume ?? ''}${r}`;
		case 'build-cache':
			return o.record === undefined
				? t`build cache`
				: o.record === null
					? t`build cache (no record)`
					: t`build cache record ${o.record}`;
		default:
			return t`${o.kind}`;
	}
}

function containerList(users: NonNullable<Owner['containers']>): Line {
	if (users.length === 0) return t`none`;
	const out: Segment[] = [];
	users.forEach((c, i) => {
		const sep = i === 0 ? '' : ', ';
		append(out, c.name === null ? t`${sep}${shortId(c.id)}` : t`${sep}${c.name} ${shortId(c.id)}`);
	});
	return out;
}

function answerLines(a: WhichAnswer): Line[] {
	const shown = a.rel ?? a.path;
	const lines: Line[] = [t`${shown === '' ? '.' : shown}`];
	const o = a.owner;
	if (o === null) return [...lines, t`  ${a.error ?? 'not known'}`];
	lines.push(t`  ${ownerLabel(o)}: ${o.what}`);
	if (o.area !== '' && o.area !== a.rel) lines.push(t`  area: ${o.area}`);
	if (o.cacheId !== undefined) lines.push(t`  cache id: ${o.cacheId}`);
	if (o.chainId !== undefined) lines.push(t`  chain id: ${o.chainId}`);
	if (o.kind === 'container' && o.containerId !== undefined) lines.push(t`  container id: ${o.containerId}`);
	if (o.kind === 'image' && o.imageId !== undefined) lines.push(t`  image id: ${o.imageId}`);
	if (o.images !== undefined)
		lines.push(t`  images: ${o.images.length === 0 ? 'none' : o.images.map(i => shortId(i)).join(', ')}`);
	const users = o.containers;
	if (users !== undefined && (o.kind === 'layer' || o.kind === 'volume' || o.kind === 'image'))
		lines.push(t`  containers: ${containerList(users)}`);
	if (o.finding !== undefined) lines.push(t`  finding ${o.finding.code}: ${o.finding.message}`);
	return lines;
}

/** `layerlens which PATH...`: the owner of each path, from one prefix map (src/disk/path-owner.ts). Exit 1 when a PATH is not under the root or not there. */
export function whichCommand({args, loaded, io}: CommandContext): number {
	const {source, raw, model} = loaded;
	const owners = buildOwnerMap(source, raw, model);
	const mounted =
		model.containerdRoot === undefined
			? undefined
			: {location: model.containerdRoot.location, shownAs: model.containerdRoot.shownAs};
	const answers: WhichAnswer[] = args.refs.map(given => {
		const rel =
			source.kind === 'dir' || !path.isAbsolute(given) ? relativeToRoot(given, source.location, mounted) : null;
		if (rel === null)
			return {path: given, rel: null, exists: false, type: null, owner: null, error: 'not under the root'};
		const st = source.stat(rel);
		if (!st.ok)
			return {
				path: given,
				rel,
				exists: false,
				type: null,
				owner: null,
				error: st.error.code === 'missing' ? 'not in the root' : `cannot be looked at: ${st.error.message}`,
			};
		return {path: given, rel, exists: true, type: st.value.kind, owner: owners.ownerOf(rel)};
	});
	io.stdout.write(
		args.json
			? json({schema: 1, root: model.root, paths: answers})
			: answers.map(a => plainLines(answerLines(a))).join('\n'),
	);
	return answers.every(a => a.owner !== null) ? 0 : 1;
}
