import type {Finding} from '../../finding.ts';
import {caps, sourceErrorFinding} from '../json-files.ts';
import type {EntryKind, Source} from '../../sources/source.ts';
import {driverInfo} from './table.ts';

/**
 * What a storage driver itself records about a layer's ancestry, read on demand by the checks:
 * - overlay2 / fuse-overlayfs: `<driver>/<id>/link` (the layer's short name), `<driver>/<id>/lower`
 *   ("l/<short>:l/<short>:…", nearest parent first), the `committed` marker, and the symlinks
 *   `<driver>/l/<short>` → `../<id>/diff` (moby daemon/graphdriver/overlay2/overlay.go);
 * - aufs: `aufs/layers/<id>` (ancestor ids, one per line, nearest first; empty for a base layer).
 */
/** A one-line driver file: absent (no finding), unreadable (a finding) or its trimmed text. */
export type DriverFile = {
	readonly present: boolean;
	readonly text?: string;
	readonly findings: Finding[];
};

/** Reads `<driver>/<id>/<name>` (`link`: the layer's short name; `lower`: "l/<short>:l/<short>:…", nearest parent first). */
export function readDriverFile(
	source: Source,
	driver: string,
	id: string,
	name: 'link' | 'lower',
	subject: string,
): DriverFile {
	const r = source.readFile(`${driver}/${id}/${name}`, caps.small);
	if (r.ok) return {present: true, text: r.value.toString('utf8').trim(), findings: []};
	if (r.error.code === 'missing') return {present: false, findings: []};
	return {present: true, findings: [sourceErrorFinding(r.error, subject, `${driver} ${name} file`)]};
}

/**
 * A layer directory's short name (`<driver>/<id>/link`, overlay2 and fuse-overlayfs; undefined for
 * other drivers, absent or unreadable files), each read at most once per returned function.
 */
export function shortNameReader(source: Source): (driver: string, id: string) => string | undefined {
	const seen = new Map<string, string | undefined>();
	return (driver, id) => {
		if (driverInfo(driver)?.shortLinks !== true || id === '' || id.includes('/') || id === '.' || id === '..')
			return undefined;
		const key = `${driver}\0${id}`;
		if (!seen.has(key)) seen.set(key, readDriverFile(source, driver, id, 'link', `store:${driver}`).text);
		return seen.get(key);
	};
}

/** Whether `<driver>/<id>/committed` exists: overlay2 writes it into a layer when a child is made on it (19.03.x and later). */
export function hasCommittedMarker(source: Source, driver: string, id: string): boolean {
	const st = source.stat(`${driver}/${id}/committed`);
	return st.ok && st.value.kind === 'file';
}

export type LinkTable = {
	/** Short name → symlink target as stored (only symlinks). */
	readonly targets: ReadonlyMap<string, string>;
	/** Entries of `l/` that are not symlinks. */
	readonly others: ReadonlyMap<string, EntryKind>;
	readonly present: boolean;
	readonly findings: Finding[];
};

/** Reads every symlink in `<driver>/l/`. */
export function readLinkTable(source: Source, driver: string): LinkTable {
	const dir = `${driver}/l`;
	const listed = source.list(dir);
	if (!listed.ok) {
		const findings =
			listed.error.code === 'missing' ? [] : [sourceErrorFinding(listed.error, `store:${driver}`, `${dir} directory`)];
		return {targets: new Map(), others: new Map(), present: false, findings};
	}
	const targets = new Map<string, string>();
	const others = new Map<string, EntryKind>();
	const findings: Finding[] = [];
	for (const e of listed.value) {
		if (e.kind !== 'symlink') {
			others.set(e.name, e.kind);
			continue;
		}
		const r = source.readLink(`${dir}/${e.name}`);
		if (r.ok) targets.set(e.name, r.value);
		else findings.push(sourceErrorFinding(r.error, `store:${driver}`, `${dir}/${e.name} symlink`));
	}
	return {targets, others, present: true, findings};
}

/** The layer id a `l/<short>` symlink points to: its target must be `../<id>/diff`. */
export function linkTargetId(target: string): string | undefined {
	const m = /^\.\.\/([^/]+)\/diff\/?$/.exec(target);
	return m?.[1];
}

export type AufsRecord = {
	/** Ancestor ids, nearest first; undefined when the file is absent or unreadable. */
	readonly ancestors?: readonly string[];
	readonly findings: Finding[];
};

/** Reads `aufs/layers/<id>`. */
export function readAufsLayers(source: Source, id: string, subject: string): AufsRecord {
	const rel = `aufs/layers/${id}`;
	const r = source.readFile(rel, caps.small);
	if (!r.ok) {
		if (r.error.code === 'missing') return {findings: []};
		return {findings: [sourceErrorFinding(r.error, subject, 'aufs layers file')]};
	}
	const ancestors = r.value
		.toString('utf8')
		.split('\n')
		.map(l => l.trim())
		.filter(l => l !== '');
	return {ancestors, findings: []};
}

/** Lists a directory's entry names and kinds; an absent directory is empty. */
export function listNames(
	source: Source,
	rel: string,
	subject: string,
): {entries: ReadonlyMap<string, EntryKind>; findings: Finding[]} {
	const listed = source.list(rel);
	if (!listed.ok) {
		if (listed.error.code === 'missing') return {entries: new Map(), findings: []};
		return {entries: new Map(), findings: [sourceErrorFinding(listed.error, subject, rel, 'warning')]};
	}
	return {entries: new Map(listed.value.map(e => [e.name, e.kind])), findings: []};
}
