import type {Finding} from '../finding.ts';
import {append} from '../append.ts';
import {statusText, layersTopDown} from '../model/ids.ts';
import type {Container, ContentDamage, DriverRecord, Image, Model} from '../model/types.ts';
import {humanSize, imageLabel, shortId, utc} from './format.ts';
import {type Line, renderLines, severitySeg, t, tone, trimEndLine} from './line.ts';
import {clean} from './sanitize.ts';
import type {Paint} from './paint.ts';
import {subjects} from './json.ts';
import {driverKey, indexesOf} from '../model/indexes.ts';

export type TreeOptions = {readonly paint: Paint};

function countBy(findings: readonly Finding[]): Map<string, Finding[]> {
	const m = new Map<string, Finding[]>();
	for (const f of findings) {
		const list = m.get(f.subject) ?? [];
		list.push(f);
		m.set(f.subject, list);
	}
	return m;
}

/** A layer whose directory is there but whose content directory is not readable whole: ' (content missing)'. */
function damageMark(d: ContentDamage | undefined): Line {
	if (d === undefined) return [];
	const words = {
		missing: 'missing',
		symlink: 'a symlink',
		'not-a-dir': 'not a directory',
		unreadable: 'unreadable',
		empty: 'emptied',
	}[d.state];
	return [tone.error(` (content ${words})`)];
}

function mark(fs: Finding[] | undefined): Line {
	if (fs === undefined || fs.length === 0) return [];
	const worst = fs.some(f => f.severity === 'error')
		? tone.error
		: fs.some(f => f.severity === 'warning')
			? tone.warning
			: tone.info;
	return t` ${worst(`[${fs.length} finding${fs.length === 1 ? '' : 's'}]`)}`;
}

/** A layer directory as the tree shows it: the path, then why its content is not all there. */
function dirPart(path: string, exists: boolean, damage: ContentDamage | undefined): Line {
	return t`${path}${exists ? damageMark(damage) : tone.error(' (missing)')}`;
}

/** The tree's head: the root, its layout and drivers, the counts, the build cache and the driver records. */
function headLines(m: Model): Line[] {
	const out: Line[] = [];
	out.push(
		t`${tone.title('Docker root')} ${m.root}  layout ${m.layout}  driver${m.drivers.length === 1 ? '' : 's'} ${m.drivers.join(', ') || '-'}`,
	);
	if (m.containerdRoot !== undefined)
		out.push(
			t`${tone.title('containerd root')} ${m.containerdRoot.location}${m.containerdRoot.kind === 'archive' ? ' (archive)' : ''}  ${tone.dim(`(--containerd-root; its paths are shown as ${m.containerdRoot.shownAs}/…)`)}`,
		);
	out.push(
		t`${m.containers.length} container${m.containers.length === 1 ? '' : 's'}, ${m.images.length} image${m.images.length === 1 ? '' : 's'}, ${m.layers.length} layer${m.layers.length === 1 ? '' : 's'}, ${m.findings.length} finding${m.findings.length === 1 ? '' : 's'}`,
	);
	const bc = m.buildCache;
	if (bc !== undefined && bc.records.length > 0) {
		out.push(
			t`${tone.title('build cache')} ${bc.records.length} BuildKit record${bc.records.length === 1 ? '' : 's'}, ${humanSize(bc.size)} recorded  ${tone.dim(bc.databases.join(', '))}`,
		);
	}
	for (const r of m.driverRecords ?? [])
		out.push(
			trimEndLine(t`${tone.title(r.driver)} ${r.what}  ${r.path === null ? '' : tone.dim(r.path)}  ${recordText(r)}`),
		);
	return out;
}

type Lookup = {readonly m: Model; readonly bySubject: Map<string, Finding[]>} & ReturnType<typeof indexesOf>;

/** One container: its line, then its chain (RW, init, image layers top down) and its image. */
function containerLines(c: Container, at: Lookup): Line[] {
	const {bySubject, imageByKey, layerByKey} = at;
	const out: Line[] = [
		[],
		t`${tone.title('container')} ${tone.id(c.name ?? '?')} ${shortId(c.id)}  ${statusText(c)}  created ${utc(c.created)}${mark(bySubject.get(`container:${c.id}`))}`,
	];
	const rows: Line[] = [];
	for (const e of c.chain) {
		const path = e.path === null ? '-' : dirPart(e.path, e.pathExists, e.contentDamage);
		if (e.role === 'image') {
			const l = e.chainId === undefined ? undefined : layerByKey.get(driverKey(c.driver, e.chainId));
			const by = l?.createdBy ? tone.dim(`  <- ${step(l.createdBy)}`) : '';
			rows.push(
				t`${tone.role('image')}  chain ${e.chainId?.endsWith('-init') === true ? `${shortId(e.chainId)}-init` : shortId(e.chainId)}  diff ${shortId(e.diffId)}  cache ${shortId(e.cacheId)}  ${path}${mark(e.chainId === undefined ? undefined : bySubject.get(`layer:${e.chainId}`))}${by}`,
			);
		} else {
			const id =
				e.cacheId === null
					? '-'
					: e.role === 'init' && e.cacheId.endsWith('-init')
						? `${shortId(e.cacheId)}-init`
						: shortId(e.cacheId);
			rows.push(t`${tone.role(e.role === 'rw' ? 'rw   ' : 'init ')}  cache ${id}  ${path}`);
		}
	}
	const img = c.imageId === null ? undefined : imageByKey.get(driverKey(c.driver, c.imageId));
	const typed = c.imageRef !== null && c.imageRef !== '' ? `  (as typed: ${c.imageRef})` : '';
	if (img !== undefined)
		rows.push(
			t`${tone.title('image')}  ${imageLabel(img)}  ${shortId(img.id)}${typed}${mark(bySubject.get(`image:${img.id}`))}`,
		);
	else
		rows.push(
			t`${tone.title('image')}  ${c.imageId === null ? '-' : shortId(c.imageId)} ${tone.error('(not in the image store)')}${typed}`,
		);
	rows.forEach((r, i) => out.push(t`${i === rows.length - 1 ? '└── ' : '├── '}${r}`));
	return out;
}

/** One image no container uses: its line, then its layers. */
function imageLines(i: Image, at: Lookup): Line[] {
	const out: Line[] = [
		[],
		t`${tone.title('image')} ${imageLabel(i)} ${shortId(i.id)}  created ${utc(i.created)}  ${humanSize(i.size)}${mark(at.bySubject.get(`image:${i.id}`))}`,
	];
	const layers = layersTopDown(i);
	layers.forEach((chainId, k) => {
		const l = at.layerByKey.get(driverKey(i.driver, chainId));
		const path = l?.path == null ? tone.error('(no layer record)') : dirPart(l.path, l.pathExists, l.contentDamage);
		out.push(
			t`${k === layers.length - 1 ? '└── ' : '├── '}${tone.role('image')}  chain ${shortId(chainId)}  cache ${shortId(l?.cacheId)}  ${path}`,
		);
	});
	return out;
}

/**
 * The text tree: each container with its chain (RW, init, image layers top down, then the
 * image), then the images no container uses, each with its layers. Ids are short; directories
 * are given in full, relative to the root.
 */
export function renderTree(
	m: Model,
	containers: readonly Container[],
	images: readonly Image[],
	opts: TreeOptions,
): string {
	const out: Line[] = headLines(m);
	const at: Lookup = {m, bySubject: countBy(m.findings), ...indexesOf(m)};
	for (const c of containers) append(out, containerLines(c, at));
	if (images.length > 0) {
		out.push([], [tone.title('images without containers')]);
		for (const i of images) append(out, imageLines(i, at));
	}
	const shown = subjects(containers, images);
	const relevant = m.findings.filter(f => shown.has(f.subject) || !/^(container|image|layer):/.test(f.subject));
	if (relevant.length > 0) {
		out.push([], [tone.title('findings')]);
		append(out, findingLines(relevant));
	}
	return renderLines(out, opts.paint);
}

/** A driver record's fields on one line (`key value, key value`), or its note when it has no fields. */
function recordText(r: DriverRecord): string {
	const fields = Object.entries(r.fields).map(
		([k, v]) => `${k} ${v === null ? '-' : Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`,
	);
	return fields.length > 0 ? fields.join(', ') : r.note !== undefined ? r.note : '';
}

/** A history step as a person reads it: the builder's "/bin/sh -c #(nop) " prefix dropped, at most 50 characters (of the cleaned text). */
export function step(createdBy: string): string {
	const s = clean(
		createdBy
			.replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
			.replace(/^\/bin\/sh -c /, 'RUN ')
			.trim(),
	);
	return s.length > 50 ? `${s.slice(0, 49)}…` : s;
}

function findingLines(findings: readonly Finding[]): Line[] {
	return findings.map(f => {
		const subj = f.subject.replace(/^(container|image|layer):(sha256:)?([0-9a-f]{12})[0-9a-f]*$/, '$1:$3');
		return t`${severitySeg(f.severity)} ${f.code}  ${subj}  ${f.message}${f.path !== undefined ? tone.dim(`  (${f.path})`) : ''}`;
	});
}
