/**
 * The detail pane's content for the selected node, as plain lines (uncut: the pane cuts them to
 * its width and scrolls them). Pure, except for the file listing, which is passed in.
 */
import {append} from '../append.ts';
import type {Finding} from '../finding.ts';
import type {Container, DriverRecord, Image, Layer} from '../model/types.ts';
import {humanSize, imageLabel, shortId, utc} from '../view/format.ts';
import {statusText, layersTopDown} from '../model/ids.ts';
import {
	driverFacts,
	idNotes,
	imageMetadataFiles,
	initPlaceholder,
	mountFiles,
	containerDirNotes,
	roleText,
	whatContainer,
	whatImage,
	whatImageLayer,
	whatRw,
	whyInit,
} from '../teach/explain.ts';
import {type ConfigMark, type Origin, provenance} from '../teach/provenance.ts';
import {wrap} from '../view/explain-text.ts';
import {markNote, markValue} from '../view/provenance-text.ts';
import type {FileListing} from './layer-files.ts';
import {severityTone} from './rows.ts';
import {type Line, type Tone, padSeg, plural, seg} from './text.ts';
import type {FindingNode, LayerNode, SectionNode, TreeIndex, TreeNode} from './tree.ts';
import {containerById, driverKey, imageById} from '../model/indexes.ts';

export type Lister = (dir: string) => FileListing | null;

const labelWidth = 16;
const loadingText = 'loading…';

function kv(label: string, value: string, tone: Tone = 'plain'): Line {
	return [padSeg(label, labelWidth, 'label'), seg(value, tone)];
}
const title = (text: string): Line => [seg(text, 'title')];
const blank: Line = [];
const text = (t: string, tone: Tone = 'plain'): Line => [seg(t, tone)];

/** Any value from a config, as one line of text: strings as they are, the rest as JSON (seg() cleans it). */
export function show(v: unknown): string {
	if (v === null || v === undefined) return '-';
	if (typeof v === 'string') return v === '' ? '""' : v;
	return JSON.stringify(v) ?? String(v);
}

function obj(v: unknown): Record<string, unknown> | null {
	return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function isEmpty(v: unknown): boolean {
	if (v === null || v === undefined || v === '' || v === false) return true;
	if (Array.isArray(v)) return v.length === 0;
	const o = obj(v);
	return o !== null && Object.keys(o).length === 0;
}

/** Items of one list shown in the details (10⁶ Env entries would take seconds to draw); the rest are counted. */
const maxItems = 200;

function moreLine(n: number): Line {
	return kv('', `… ${n} more (layerlens inspect lists all)`, 'dim');
}

/** A list-like value (Env, Labels, ports) as one line per item under a label, the first maxItems of them. */
function listLines(label: string, v: unknown): Line[] {
	if (isEmpty(v)) return [kv(label, '-', 'dim')];
	let items: string[];
	let total: number;
	if (Array.isArray(v)) {
		total = v.length;
		items = v.slice(0, maxItems).map(show);
	} else {
		const o = obj(v);
		const entries = o === null ? [] : Object.entries(o);
		total = o === null ? 1 : entries.length;
		items = o === null ? [show(v)] : entries.slice(0, maxItems).map(([k, x]) => (isEmpty(x) ? k : `${k}=${show(x)}`));
	}
	const out = items.map((item, i) => kv(i === 0 ? label : '', item));
	if (total > items.length) out.push(moreLine(total - items.length));
	return out;
}

function findingLines(findings: readonly Finding[] | undefined): Line[] {
	if (findings === undefined || findings.length === 0) return [];
	const out: Line[] = [blank, title(plural(findings.length, 'finding'))];
	for (const f of findings) {
		out.push([seg(f.severity.padEnd(8), severityTone(f.severity)), seg(f.code), seg(`  ${f.message}`)]);
		if (f.path !== undefined) out.push(text(`        ${f.path}`, 'dim'));
	}
	return out;
}

function configLines(config: Readonly<Record<string, unknown>> | null, what: string): Line[] {
	const out: Line[] = [blank, title(what)];
	if (config === null) return [...out, text('not recorded', 'dim')];
	const c = config;
	out.push(kv('entrypoint', show(c.Entrypoint)));
	out.push(kv('cmd', show(c.Cmd)));
	out.push(kv('workdir', show(c.WorkingDir || null)));
	out.push(kv('user', show(c.User || null)));
	if (c.Hostname !== undefined) out.push(kv('hostname', show(c.Hostname)));
	append(out, listLines('ports', c.ExposedPorts));
	append(out, listLines('volumes', c.Volumes));
	append(out, listLines('env', c.Env));
	append(out, listLines('labels', c.Labels));
	return out;
}

const originTone: Record<Origin, Tone> = {
	image: 'role',
	user: 'ok',
	daemon: 'info',
	default: 'dim',
	unknown: 'warning',
};

/** The container's merged config, each value marked with where it came from (teach/provenance.ts). */
function provenanceLines(c: Container, image: Image | undefined): Line[] {
	const p = provenance(c, image);
	const out: Line[] = [blank, title('config (image defaults merged with the run options; where each value came from)')];
	if (c.config === null) return [...out, text('not recorded', 'dim')];
	const shown: Array<[string, string]> = [
		['Entrypoint', 'entrypoint'],
		['Cmd', 'cmd'],
		['WorkingDir', 'workdir'],
		['User', 'user'],
		['Hostname', 'hostname'],
		['ExposedPorts', 'ports'],
		['Volumes', 'volumes'],
		['Env', 'env'],
		['Labels', 'labels'],
	];
	const line = (label: string, m: ConfigMark): Line => {
		const note = markNote(m);
		return [
			padSeg(label, labelWidth, 'label'),
			seg(m.origin.padEnd(8), originTone[m.origin]),
			seg(m.key === null && (m.value === null || m.value === '' || m.value === undefined) ? '-' : markValue(m)),
			...(note === '' ? [] : [seg(`  ${note}`, 'dim')]),
		];
	};
	for (const [field, label] of shown) {
		const marks = p.config.filter(m => m.field === field);
		if (marks.length === 0) out.push(kv(label, '-', 'dim'));
		marks.slice(0, maxItems).forEach((m, i) => out.push(line(i === 0 ? label : '', m)));
		if (marks.length > maxItems) out.push(moreLine(marks.length - maxItems));
	}
	const others = p.config.filter(
		m => !shown.some(([f]) => f === m.field) && m.field !== 'Image' && (m.origin === 'user' || m.origin === 'daemon'),
	);
	for (const m of others) out.push(line(m.field.charAt(0).toLowerCase() + m.field.slice(1), m));
	const n = (o: Origin) => p.config.filter(m => m.origin === o).length;
	out.push(
		text(
			`${n('image')} from the image, ${n('user')} from the create request, ${n('daemon')} from the daemon${p.imageKnown ? '' : ' (image config not found: origins unknown)'}; layerlens inspect --provenance lists all`,
			'dim',
		),
	);
	const user = p.host.filter(h => h.origin === 'user').map(h => h.field);
	const daemon = p.host.filter(h => h.origin === 'daemon').map(h => h.field);
	if (p.host.length > 0) {
		out.push(
			kv(
				'host: set',
				user.length === 0 ? '- (all at their defaults)' : user.join(', '),
				user.length === 0 ? 'dim' : 'ok',
			),
		);
		out.push(kv('host: daemon', daemon.length === 0 ? '-' : daemon.join(', '), 'dim'));
	}
	return out;
}

function listingLines(files: Lister, dir: string | null, init: boolean): Line[] {
	const out: Line[] = [blank, title(init ? 'files (and what each is for)' : 'files (top level)')];
	if (dir === null) return [...out, text('nothing to list: the directory is missing or not recorded', 'dim')];
	const listing = files(dir);
	if (listing === null) return [...out, text('not available', 'dim')];
	if (!listing.ok) return [...out, text(`cannot list: ${listing.error}`, 'error')];
	if (listing.total === 0) return [...out, text('(empty: nothing changed in this layer)', 'dim')];
	const entryLines = (prefix: string, entries: Extract<FileListing, {ok: true}>['entries']) => {
		for (const e of entries) {
			const name = prefix + e.name;
			const mark = e.kind === 'dir' ? '/' : e.kind === 'symlink' ? '@' : '';
			const note = e.whiteout
				? '  (whiteout: deleted in this layer)'
				: e.kind === 'file' || e.kind === 'dir' || e.kind === 'symlink'
					? ''
					: `  (${e.kind})`;
			const line: Line = [
				padSeg(name + mark, init ? 18 : 0, e.kind === 'dir' ? 'id' : 'plain'),
				seg(note, e.whiteout ? 'warning' : 'dim'),
			];
			const purpose = init ? initPlaceholder(prefix + e.name)?.text : undefined;
			out.push(purpose === undefined ? line : [...line, seg(`  ${purpose}`, 'dim')]);
			if (init && prefix === '' && e.kind === 'dir' && (e.name === 'dev' || e.name === 'etc')) {
				const sub = files(`${dir}/${e.name}`);
				if (sub?.ok) entryLines(`${e.name}/`, sub.entries);
			}
		}
	};
	entryLines('', listing.entries);
	if (listing.total > listing.entries.length)
		out.push(text(`… and ${listing.total - listing.entries.length} more`, 'dim'));
	return out;
}

function sharing(tree: TreeIndex, images: readonly string[], containers: readonly string[]): Line[] {
	const model = tree.model;
	const names = containers.slice(0, 8).map(id => containerById(model, id)?.name ?? shortId(id));
	const imgs = images.slice(0, 8).map(id => {
		const i = imageById(model, id, null);
		return i === undefined ? shortId(id) : i.tags.length > 0 ? i.tags[0]! : shortId(id);
	});
	const more = (n: number, shown: number) => (n > shown ? ` … (+${n - shown})` : '');
	return [
		kv('images', images.length === 0 ? '-' : `${images.length}: ${imgs.join(', ')}${more(images.length, imgs.length)}`),
		kv(
			'containers',
			containers.length === 0
				? '-'
				: `${containers.length}: ${names.join(', ')}${more(containers.length, names.length)}`,
		),
	];
}

/** What config.v2.json holds beyond the status (read with the details): pid, OOM kill, restarts, health, manual stop, log file. */
function storedStateLines(c: Container): Line[] {
	const stored = c.stored ?? null;
	if (stored === null) return [];
	const state = obj(stored.State);
	const out: Line[] = [];
	if (typeof state?.Pid === 'number' && state.Pid !== 0) out.push(kv('pid', show(state.Pid)));
	if (state?.OOMKilled === true) out.push(kv('oom killed', 'yes: the kernel killed it for memory', 'warning'));
	if (typeof stored.RestartCount === 'number' && stored.RestartCount > 0)
		out.push(kv('restarts', show(stored.RestartCount)));
	const health = obj(state?.Health);
	if (health !== null)
		out.push(
			kv(
				'health',
				`${show(health.Status)}${Number(health.FailingStreak) > 0 ? ` (failing streak ${show(health.FailingStreak)})` : ''}`,
				health.Status === 'unhealthy' ? 'warning' : 'plain',
			),
		);
	if (stored.HasBeenManuallyStopped === true)
		out.push(kv('stopped by', 'docker stop (a restart policy does not restart it)'));
	if (typeof stored.LogPath === 'string' && stored.LogPath !== '') out.push(kv('log path', stored.LogPath, 'dim'));
	return out;
}

/** The image a container runs: its label, or why it is not there (removed under it, or never in the store). */
function imageUsedLine(tree: TreeIndex, c: Container, image: Image | undefined): Line {
	// While only the containers are read (tree.loading), what links them is not known yet.
	const later = tree.loading ? loadingText : undefined;
	// Removed under the container (docker rmi -f) with its chain intact: it still starts (container.image-removed).
	const removed =
		image === undefined &&
		c.imageId !== null &&
		c.chain.some(e => e.role === 'image') &&
		c.chain.every(e => e.pathExists);
	const gone = removed
		? '(removed from the image store; its layers are all there, so it still starts)'
		: '(not in the image store)';
	return kv(
		'image used',
		`${shortId(c.imageId)}  ${later ?? (image === undefined ? (c.imageId === null ? '' : gone) : imageLabel(image))}`,
		later !== undefined ? 'dim' : image === undefined && c.imageId !== null ? (removed ? 'warning' : 'error') : 'plain',
	);
}

/** The host config section: binds, ports, restart policy, privileges, network. */
function hostConfigLines(c: Container): Line[] {
	const h = c.hostConfig;
	const out: Line[] = [blank, title('host config')];
	if (h === null) {
		out.push(text('not recorded', 'dim'));
		return out;
	}
	const restart = obj(h.RestartPolicy);
	append(out, listLines('binds', h.Binds));
	const ports = obj(h.PortBindings);
	const portItems =
		ports === null
			? []
			: Object.entries(ports).map(
					([p, b]) =>
						`${p} <- ${Array.isArray(b) ? b.map(x => `${show(obj(x)?.HostIp || '0.0.0.0')}:${show(obj(x)?.HostPort)}`).join(', ') : show(b)}`,
				);
	append(out, listLines('ports', portItems));
	out.push(
		kv(
			'restart',
			restart === null
				? '-'
				: `${show(restart.Name || 'no')}${Number(restart.MaximumRetryCount) > 0 ? ` (max ${show(restart.MaximumRetryCount)})` : ''}`,
		),
	);
	out.push(kv('privileged', h.Privileged === true ? 'yes' : 'no', h.Privileged === true ? 'warning' : 'plain'));
	append(out, listLines('cap add', h.CapAdd), listLines('cap drop', h.CapDrop));
	out.push(kv('network', show(h.NetworkMode || null)));
	if (!isEmpty(h.SecurityOpt)) append(out, listLines('security opt', h.SecurityOpt));
	return out;
}

/** The mount points section: destination <- source, type and rw/ro. */
function mountPointLines(c: Container): Line[] {
	const out: Line[] = [blank, title('mount points')];
	const mp = c.mountPoints;
	if (mp === null || Object.keys(mp).length === 0) {
		out.push(text('none', 'dim'));
		return out;
	}
	for (const [dest, raw] of Object.entries(mp)) {
		const m = obj(raw) ?? {};
		const src = m.Source || (m.Name ? `volume ${show(m.Name)}` : '-');
		out.push([
			seg(dest, 'id'),
			seg(` <- ${show(src)}`),
			seg(`  ${show(m.Type || m.Driver || '')} ${m.RW === false ? 'ro' : 'rw'}`, 'dim'),
		]);
	}
	return out;
}

/** The chain section: each layer directory, top first, with missing ones flagged. */
function chainLines(tree: TreeIndex, c: Container): Line[] {
	const out: Line[] = [blank, title('chain (top first)')];
	if (tree.loading) out.push(text(loadingText, 'dim'));
	for (const e of c.chain) {
		out.push([
			seg(e.role.padEnd(6), 'role'),
			seg(e.path === null ? '-' : e.path),
			seg(e.pathExists ? '' : '  (missing)', 'error'),
		]);
	}
	return out;
}

function containerLines(tree: TreeIndex, c: Container): Line[] {
	const image = c.imageId === null ? undefined : tree.imageByKey.get(driverKey(c.driver, c.imageId));
	const out: Line[] = [
		title(`container ${c.name ?? '?'}`),
		kv('name', c.name ?? '-'),
		kv('id', c.id, 'id'),
		kv('status', statusText(c), c.status === 'running' ? 'ok' : 'plain'),
		kv('created', utc(c.created)),
		kv('started', utc(c.startedAt)),
		kv('finished', utc(c.finishedAt)),
		kv('exit code', c.exitCode === null ? '-' : String(c.exitCode)),
	];
	if (c.error !== null && c.error !== '') out.push(kv('error', c.error, 'error'));
	append(out, storedStateLines(c));
	out.push(kv('command', c.command === null ? '-' : c.command));
	out.push(kv('image as typed', c.imageRef === null ? '-' : c.imageRef));
	out.push(imageUsedLine(tree, c, image));
	// While only the containers are read (tree.loading), the ids that link them are not known yet.
	const later = tree.loading ? loadingText : undefined;
	out.push(
		kv('driver', c.driver ?? '-'),
		kv('mount id', later ?? c.mountId ?? '-'),
		kv('init id', later ?? c.initId ?? '-'),
		kv('config dir', c.path, 'dim'),
	);
	append(
		out,
		tree.loading
			? configLines(c.config, 'config (image defaults merged with the run options)')
			: provenanceLines(c, image),
	);
	append(out, hostConfigLines(c), mountPointLines(c), chainLines(tree, c));
	append(out, findingLines(tree.findingsBySubject.get(`container:${c.id}`)));
	return out;
}

/** A layer's details before its file listing: pure (no files), so the e key can find what follows. */
function layerHead(tree: TreeIndex, n: LayerNode): Line[] {
	const e = n.entry;
	const l: Layer | null = n.layer;
	const out: Line[] = [
		title(n.role === 'rw' ? 'RW layer' : n.role === 'init' ? 'init layer' : 'image layer'),
		text(roleText[n.role], 'dim'),
		blank,
	];
	const dir = e?.path ?? l?.path ?? null;
	const exists = e !== null ? e.pathExists : l !== null ? l.pathExists : false;
	if (n.container !== null) out.push(kv('container', `${n.container.name ?? '?'} ${shortId(n.container.id)}`));
	if (n.role === 'image') {
		out.push(kv('chain id', n.chainId ?? '-', 'id'));
		out.push(kv('diff id', l?.diffId ?? e?.diffId ?? '-'));
	}
	out.push(kv('cache id', e?.cacheId ?? l?.cacheId ?? '-'));
	out.push(kv('directory', dir === null ? '-' : dir + (exists ? '' : '  (missing)'), exists ? 'plain' : 'error'));
	const record = e?.driverRecord ?? l?.driverRecord;
	if (record !== undefined) append(out, recordLines(record));
	if (n.role === 'image') {
		out.push(kv('size', humanSize(l?.size)));
		out.push(kv('created by', l?.createdBy ? l.createdBy : '-'));
		out.push(kv('parent', l?.parent ? l.parent : '- (bottom layer)'));
		if (l === null) out.push(text('this layer is not in layerdb', 'error'));
		else append(out, [kv('layerdb', l.metaPath, 'dim')], sharing(tree, l.images, l.containers));
	} else if (n.container !== null) {
		out.push(kv('driver', n.container.driver ?? '-'));
	}
	return out;
}

/** What the storage driver records about the layer (devicemapper device record, btrfs quota, windowsfilter layer chain, zfs dataset). */
function recordLines(r: DriverRecord): Line[] {
	const out: Line[] = [kv('driver record', r.path === null ? '(not on disk: derived)' : r.path, 'dim')];
	for (const [k, v] of Object.entries(r.fields)) {
		if (Array.isArray(v))
			append(
				out,
				v.length === 0
					? [kv(`  ${k}`, '(none)', 'dim')]
					: v.map((x: string, i: number) => kv(i === 0 ? `  ${k}` : '', x)),
			);
		else out.push(kv(`  ${k}`, v === null ? '- (absent or invalid)' : String(v), v === null ? 'dim' : 'plain'));
	}
	if (r.note !== undefined)
		append(
			out,
			wrap(r.note, 56).map(l => text(`  ${l}`, 'dim')),
		);
	return out;
}

/** A layer's file listing and findings (they stay last, so G in the details shows the files). */
function layerTail(tree: TreeIndex, n: LayerNode, files: Lister): Line[] {
	const e = n.entry;
	const l: Layer | null = n.layer;
	const dir = e?.path ?? l?.path ?? null;
	const exists = e !== null ? e.pathExists : l !== null ? l.pathExists : false;
	const out: Line[] = [...listingLines(files, exists ? dir : null, n.role === 'init')];
	if (n.chainId !== null) append(out, findingLines(tree.findingsBySubject.get(`layer:${n.chainId}`)));
	else if (n.container !== null) {
		const cache = e?.cacheId ?? '';
		append(
			out,
			findingLines(
				tree.findingsBySubject.get(`container:${n.container.id}`)?.filter(f => cache !== '' && f.path?.includes(cache)),
			),
		);
	}
	return out;
}

function imageLines(tree: TreeIndex, i: Image): Line[] {
	const out: Line[] = [
		title(`image ${imageLabel(i)}`),
		kv('id', i.id, 'id'),
		...listLines('tags', i.tags),
		...listLines('digests', i.digests),
		kv('created', utc(i.created)),
		kv('size', humanSize(i.size)),
		kv('platform', `${show(i.os)}/${show(i.architecture)}`),
		kv('parent', i.parent === null ? '-' : i.parent),
		kv(
			'kind',
			i.tags.length > 0
				? 'tagged'
				: i.intermediate
					? 'intermediate (untagged parent of another image)'
					: 'dangling (untagged, no children)',
		),
		kv('containers', i.containers.length === 0 ? '-' : String(i.containers.length)),
		kv('config file', i.path, 'dim'),
	];
	append(out, configLines(i.config, 'config'));
	out.push(blank, title(`history (${i.history.length} steps, oldest first)`));
	for (const h of i.history) {
		out.push([
			seg(utc(h.created).replace(' UTC', ''), 'dim'),
			seg(h.emptyLayer ? '  (no layer) ' : `  ${shortId(h.chainId)} `, h.emptyLayer ? 'dim' : 'id'),
			seg(h.createdBy === null ? '-' : h.createdBy),
		]);
	}
	out.push(blank, title(`layers (${i.chainIds.length}, top first)`));
	for (const chainId of layersTopDown(i)) {
		const l = tree.layerByKey.get(driverKey(i.driver, chainId));
		out.push([
			seg(shortId(chainId), 'id'),
			seg(`  ${humanSize(l?.size).padEnd(7)}  `),
			seg(l?.path == null ? 'not in layerdb' : l.path, l?.path == null ? 'error' : 'dim'),
		]);
	}
	append(out, findingLines(tree.findingsBySubject.get(`image:${i.id}`)));
	return out;
}

const explainWidth = 56;

function para(t: string, tone: Tone = 'plain'): Line[] {
	return wrap(t, explainWidth).map(l => text(l, tone));
}

function notes(list: ReadonlyArray<{readonly label: string; readonly text: string}>): Line[] {
	return list.flatMap(n => [text(n.label, 'id'), ...wrap(n.text, explainWidth - 2).map(l => text(`  ${l}`, 'dim'))]);
}

/**
 * The "what is this" section at the end of the detail pane (the e key scrolls to it): what the
 * selected object is and what its files hold, for its storage driver (teach/explain.ts).
 */
export function explainLines(_tree: TreeIndex, node: TreeNode): Line[] {
	const out: Line[] = [blank, title('what this is (e)')];
	switch (node.kind) {
		case 'loading':
			append(out, para(whatContainer));
			break;
		case 'section':
			append(
				out,
				para(
					node.section === 'containers'
						? whatContainer
						: node.section === 'images'
							? whatImage
							: 'A finding is something on disk that is missing, broken or worth a look, attached to the object it concerns; docs/check.md lists every code.',
				),
			);
			break;
		case 'container': {
			const id = shortId(node.container.id);
			append(out, para(whatContainer), [blank, text(`containers/${id}…/`, 'title')]);
			append(out, notes(containerDirNotes(node.container)));
			append(
				out,
				[blank, text(`image/${node.container.driver ?? '<driver>'}/layerdb/mounts/${id}…/`, 'title')],
				notes(mountFiles),
			);
			break;
		}
		case 'layer': {
			const driver = node.container?.driver ?? node.layer?.driver ?? null;
			const f = driverFacts(driver);
			const cache = node.entry?.cacheId ?? node.layer?.cacheId ?? null;
			if (node.role === 'rw') {
				append(out, para(whatRw), [blank, text(`deletions (${f.driver})`, 'title')], para(f.whiteouts, 'dim'));
				const mp = cache === null ? null : f.mountPoint(cache);
				if (mp !== null) append(out, [blank, text('union mount point', 'title')], notes([mp]));
			} else if (node.role === 'init') {
				append(
					out,
					para(whyInit),
					[blank, text(`made at docker create (${f.driver})`, 'title')],
					para(f.onCreate, 'dim'),
				);
			} else {
				append(
					out,
					para(whatImageLayer),
					[blank, text(`deletions (${f.driver})`, 'title')],
					para(f.whiteouts, 'dim'),
					[blank, text('the three names of a layer', 'title')],
					notes(idNotes),
				);
			}
			if (cache !== null && node.role !== 'init')
				append(
					out,
					[blank, text(`files the ${f.driver} driver keeps for it`, 'title')],
					notes(
						f.records(`${cache.slice(0, 12)}…`).filter(n => !(node.role === 'rw' && n.label.endsWith('committed'))),
					),
				);
			break;
		}
		case 'image':
			append(out, para(whatImage), [blank, text('imagedb/metadata/sha256/<id>/', 'title')], notes(imageMetadataFiles));
			break;
		case 'finding':
			append(
				out,
				para(
					'A finding is something on disk that is missing, broken or worth a look; Enter goes to the object it concerns. docs/check.md explains every code.',
				),
			);
			break;
	}
	return out;
}

/**
 * The detail pane's lines for a node, with what it is (explainLines): last, except for a layer,
 * where it comes before the file listing.
 */
export function detailLines(tree: TreeIndex, node: TreeNode, files: Lister): Line[] {
	if (node.kind === 'layer')
		return [...layerHead(tree, node), ...explainLines(tree, node), ...layerTail(tree, node, files)];
	return [...nodeLines(tree, node, files), ...explainLines(tree, node)];
}

/** Where explainLines starts in detailLines, given their length (the e key scrolls there). */
export function explainStart(tree: TreeIndex, node: TreeNode, length: number): number {
	if (node.kind === 'layer') return layerHead(tree, node).length;
	return Math.max(0, length - explainLines(tree, node).length);
}

/** A section's details: what it holds and, for the findings, how many of each severity. */
function sectionLines(tree: TreeIndex, node: SectionNode): Line[] {
	const m = tree.model;
	const lines: Line[] = [
		title(
			node.section === 'containers'
				? 'containers'
				: node.section === 'images'
					? 'images without containers'
					: 'findings',
		),
	];
	if (node.section === 'containers')
		lines.push(
			text('Each container expands into its chain: RW layer -> init layer -> image layers (top down) -> image.', 'dim'),
		);
	if (node.section === 'images')
		lines.push(text('Images no container uses; each expands into its layers, top first.', 'dim'));
	if (tree.loading && node.section !== 'containers')
		return [...lines, blank, text('loading…: the image store, layers and findings are still being read', 'dim')];
	if (node.section === 'findings') {
		lines.push(
			text('Things on disk that are missing, broken or worth a look. Press f to show only nodes with findings.', 'dim'),
		);
		const by = (s: Finding['severity']) => m.findings.filter(f => f.severity === s).length;
		lines.push(
			blank,
			kv('errors', String(by('error')), 'error'),
			kv('warnings', String(by('warning')), 'warning'),
			kv('info', String(by('info')), 'info'),
		);
	}
	lines.push(blank, kv('shown', String(node.count)));
	return lines;
}

/** A finding's details, and which node of the tree it concerns (Enter goes there). */
function findingDetailLines(tree: TreeIndex, node: FindingNode): Line[] {
	const f = node.finding;
	const lines: Line[] = [
		title('finding'),
		kv('severity', f.severity, severityTone(f.severity)),
		kv('code', f.code),
		kv('subject', f.subject),
		kv('path', f.path === undefined ? '-' : f.path),
		blank,
		text(f.message),
	];
	const about = subjectNode(tree, f.subject);
	if (about !== null) lines.push(blank, text(`concerns ${about}; Enter goes there`, 'dim'));
	return lines;
}

function nodeLines(tree: TreeIndex, node: TreeNode, files: Lister): Line[] {
	switch (node.kind) {
		case 'section':
			return sectionLines(tree, node);
		case 'container':
			return containerLines(tree, node.container);
		case 'layer':
			return [...layerHead(tree, node), ...layerTail(tree, node, files)];
		case 'image': {
			if (node.image !== null) return imageLines(tree, node.image);
			return [
				title('image'),
				kv('id', node.imageId ?? '-', 'id'),
				text(
					'This image is not in the image store: the container refers to an image that was removed or never saved.',
					'error',
				),
			];
		}
		case 'loading':
			return [
				title(`container ${node.container.name ?? '?'}: chain`),
				blank,
				text(
					'loading…: its RW and init layers, image layers and image are still being read; they appear here when they are in.',
					'dim',
				),
			];
		case 'finding':
			return findingDetailLines(tree, node);
	}
}

function subjectNode(tree: TreeIndex, subject: string): string | null {
	const m = /^(container|image|layer):(.*)$/.exec(subject);
	if (m === null) return null;
	if (m[1] === 'container') {
		const c = containerById(tree.model, m[2]!);
		return c === undefined ? null : `container ${c.name ?? '?'}`;
	}
	if (m[1] === 'image') {
		const i = imageById(tree.model, m[2]!, null);
		return i === undefined ? null : `image ${imageLabel(i)}`;
	}
	return `layer ${shortId(m[2])}`;
}

/** The detail pane's title for a node. */
export function detailTitle(node: TreeNode | undefined): string {
	if (node === undefined) return 'nothing selected';
	switch (node.kind) {
		case 'section':
			return node.section === 'images' ? 'images without containers' : node.section;
		case 'container':
			return `container ${node.container.name ?? shortId(node.container.id)}`;
		case 'layer':
			return node.role === 'rw'
				? 'RW layer'
				: node.role === 'init'
					? 'init layer'
					: `image layer ${shortId(node.chainId)}`;
		case 'image':
			return node.image === null ? `image ${shortId(node.imageId)}` : `image ${imageLabel(node.image)}`;
		case 'finding':
			return `finding ${node.finding.code}`;
		case 'loading':
			return 'loading…';
	}
}
