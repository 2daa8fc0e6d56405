import type {Finding} from '../finding.ts';
import {statusText, layersTopDown} from '../model/ids.ts';
import type {Container, ContentDamage, DriverRecord, Image, Model} from '../model/types.ts';
import {humanSize, imageLabel, shortId, utc} from './format.ts';
import {type Paint, severityLabel} from './paint.ts';
import {clean} from './sanitize.ts';
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
function damageMark(p: Paint, d: ContentDamage | undefined): string {
	if (d === undefined) return '';
	const words = {missing: 'missing', symlink: 'a symlink', 'not-a-dir': 'not a directory', unreadable: 'unreadable', empty: 'emptied'}[d.state];
	return p.error(` (content ${words})`);
}

function mark(p: Paint, fs: Finding[] | undefined): string {
	if (fs === undefined || fs.length === 0) return '';
	const worst = fs.some(f => f.severity === 'error') ? p.error : fs.some(f => f.severity === 'warning') ? p.warning : p.info;
	return ' ' + worst(`[${fs.length} finding${fs.length === 1 ? '' : 's'}]`);
}

/**
 * The text tree: each container with its chain (RW, init, image layers top down, then the
 * image), then the images no container uses, each with its layers. Ids are short; directories
 * are given in full, relative to the root.
 */
export function renderTree(m: Model, containers: readonly Container[], images: readonly Image[], opts: TreeOptions): string {
	const p = opts.paint;
	const out: string[] = [];
	const bySubject = countBy(m.findings);
	const {imageByKey, layerByKey} = indexesOf(m);
	out.push(`${p.title('Docker root')} ${clean(m.root)}  layout ${m.layout}  driver${m.drivers.length === 1 ? '' : 's'} ${m.drivers.map(clean).join(', ') || '-'}`);
	if (m.containerdRoot !== undefined) out.push(`${p.title('containerd root')} ${clean(m.containerdRoot.location)}${m.containerdRoot.kind === 'archive' ? ' (archive)' : ''}  ${p.dim(`(--containerd-root; its paths are shown as ${clean(m.containerdRoot.shownAs)}/…)`)}`);
	out.push(
		`${m.containers.length} container${m.containers.length === 1 ? '' : 's'}, ${m.images.length} image${m.images.length === 1 ? '' : 's'}, ${m.layers.length} layer${m.layers.length === 1 ? '' : 's'}, ${m.findings.length} finding${m.findings.length === 1 ? '' : 's'}`,
	);
	const bc = m.buildCache;
	if (bc !== undefined && bc.records.length > 0) {
		out.push(`${p.title('build cache')} ${bc.records.length} BuildKit record${bc.records.length === 1 ? '' : 's'}, ${humanSize(bc.size)} recorded  ${p.dim(bc.databases.map(clean).join(', '))}`);
	}
	for (const r of m.driverRecords ?? []) out.push(`${p.title(clean(r.driver))} ${clean(r.what)}  ${r.path === null ? '' : p.dim(clean(r.path))}  ${recordText(r)}`.trimEnd());
	for (const c of containers) {
		out.push('');
		out.push(`${p.title('container')} ${p.id(clean(c.name ?? '?'))} ${shortId(c.id)}  ${statusText(c)}  created ${utc(c.created)}${mark(p, bySubject.get(`container:${c.id}`))}`);
		const rows: string[] = [];
		for (const e of c.chain) {
			const path = e.path === null ? '-' : clean(e.path) + (e.pathExists ? damageMark(p, e.contentDamage) : p.error(' (missing)'));
			if (e.role === 'image') {
				const l = e.chainId === undefined ? undefined : layerByKey.get(driverKey(c.driver, e.chainId));
				const by = l?.createdBy ? p.dim(`  <- ${step(l.createdBy)}`) : '';
				rows.push(`${p.role('image')}  chain ${e.chainId?.endsWith('-init') === true ? `${shortId(e.chainId)}-init` : shortId(e.chainId)}  diff ${shortId(e.diffId)}  cache ${shortId(e.cacheId)}  ${path}${mark(p, e.chainId === undefined ? undefined : bySubject.get(`layer:${e.chainId}`))}${by}`);
			} else {
				const id = e.cacheId === null ? '-' : e.role === 'init' && e.cacheId.endsWith('-init') ? `${shortId(e.cacheId)}-init` : shortId(e.cacheId);
				rows.push(`${p.role(e.role === 'rw' ? 'rw   ' : 'init ')}  cache ${id}  ${path}`);
			}
		}
		const img = c.imageId === null ? undefined : imageByKey.get(driverKey(c.driver, c.imageId));
		const typed = c.imageRef !== null && c.imageRef !== '' ? `  (as typed: ${clean(c.imageRef)})` : '';
		if (img !== undefined) rows.push(`${p.title('image')}  ${imageLabel(img)}  ${shortId(img.id)}${typed}${mark(p, bySubject.get(`image:${img.id}`))}`);
		else rows.push(`${p.title('image')}  ${c.imageId === null ? '-' : shortId(c.imageId)} ${p.error('(not in the image store)')}${typed}`);
		rows.forEach((r, i) => out.push(`${i === rows.length - 1 ? '└── ' : '├── '}${r}`));
	}
	if (images.length > 0) {
		out.push('');
		out.push(p.title('images without containers'));
		for (const i of images) {
			out.push('');
			out.push(`${p.title('image')} ${imageLabel(i)} ${shortId(i.id)}  created ${utc(i.created)}  ${humanSize(i.size)}${mark(p, bySubject.get(`image:${i.id}`))}`);
			const layers = layersTopDown(i);
			layers.forEach((chainId, k) => {
				const l = layerByKey.get(driverKey(i.driver, chainId));
				const path = l?.path == null ? p.error('(no layer record)') : clean(l.path) + (l.pathExists ? damageMark(p, l.contentDamage) : p.error(' (missing)'));
				out.push(`${k === layers.length - 1 ? '└── ' : '├── '}${p.role('image')}  chain ${shortId(chainId)}  cache ${shortId(l?.cacheId)}  ${path}`);
			});
		}
	}
	const shown = subjects(containers, images);
	const relevant = m.findings.filter(f => shown.has(f.subject) || !/^(container|image|layer):/.test(f.subject));
	if (relevant.length > 0) {
		out.push('');
		out.push(p.title('findings'));
		out.push(renderFindings(relevant, p));
	}
	return out.join('\n') + '\n';
}

/** A driver record's fields on one line (`key value, key value`), or its note when it has no fields. */
function recordText(r: DriverRecord): string {
	const fields = Object.entries(r.fields).map(([k, v]) => `${clean(k)} ${v === null ? '-' : Array.isArray(v) ? `[${v.map(x => clean(x)).join(', ')}]` : clean(String(v))}`);
	return fields.length > 0 ? fields.join(', ') : r.note !== undefined ? clean(r.note) : '';
}

/** A history step as a person reads it: the builder's "/bin/sh -c #(nop) " prefix dropped, at most 50 characters. */
export function step(createdBy: string): string {
	const s = clean(createdBy.replace(/^\/bin\/sh -c #\(nop\)\s*/, '').replace(/^\/bin\/sh -c /, 'RUN ').trim());
	return s.length > 50 ? `${s.slice(0, 49)}…` : s;
}

function renderFindings(findings: readonly Finding[], p: Paint): string {
	return findings
		.map(f => {
			const sev = severityLabel(p, f.severity);
			const subj = f.subject.replace(/^(container|image|layer):(sha256:)?([0-9a-f]{12})[0-9a-f]*$/, '$1:$3');
			return `${sev} ${clean(f.code)}  ${clean(subj)}  ${clean(f.message)}${f.path !== undefined ? p.dim(`  (${clean(f.path)})`) : ''}`;
		})
		.join('\n');
}
