import type {DfReport} from '../disk/report.ts';
import {shortId} from '../model/ids.ts';
import {humanSize} from '../units.ts';
import {clean} from './sanitize.ts';

function table(rows: string[][], right: ReadonlySet<number>): string {
	const widths = rows[0]!.map((_, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), 0));
	return `${rows
		.map(r =>
			r
				.map((cell, i) =>
					i === r.length - 1 ? cell : right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
				)
				.join('   ')
				.trimEnd(),
		)
		.join('\n')}\n`;
}

const size = (n: number | null): string => humanSize(n);

/** The ledger: one row per category, then the totals, what is left unattributed and the orphans. */
function ledgerText(r: DfReport): string {
	const rows = [['CATEGORY', 'SIZE', 'COUNT', 'RECLAIMABLE', 'RECLAIM BY']];
	for (const c of r.categories) {
		if (c.bytes === 0 && c.count === 0) continue;
		rows.push([c.kind, size(c.bytes), String(c.count), size(c.reclaimableBytes), c.reclaimBy ?? '']);
	}
	let out = table(rows, new Set([1, 2, 3]));
	const t = r.total;
	out += `\nTotal: ${size(t.bytes)} (${t.bytes} bytes) apparent in ${t.files} files and symlinks`;
	out +=
		r.sourceKind === 'archive'
			? ' (an archive has no block counts: allocated size unknown)\n'
			: t.blocks === null
				? ' (allocated size unknown: this reader gives no block counts)\n'
				: `; ${size(t.blocks)} (${t.blocks} bytes) allocated, directories included\n`;
	if (t.unknown > 0)
		out += `Unknown size: ${t.unknown} path${t.unknown === 1 ? '' : 's'} could not be read (see the findings below)\n`;
	if (r.orphans.length > 0) {
		out += '\nOrphans and leftovers (docker never frees them):\n';
		for (const o of r.orphans) out += `  ${clean(o.path)}   ${size(o.bytes)}${o.code === null ? '' : `   ${o.code}`}\n`;
	}
	if (r.unattributed.length > 0) {
		out += '\nOther (no owner known):\n';
		for (const u of r.unattributed) out += `  ${clean(u.path)}   ${size(u.bytes)}\n`;
	}
	if (r.sparse.length > 0) {
		out += '\nSparse files (apparent / allocated):\n';
		for (const s of r.sparse) out += `  ${clean(s.path)}   ${size(s.bytes)} / ${size(s.allocated)}\n`;
	}
	for (const f of r.findings) out += `${f.severity}: ${f.code}: ${clean(f.message)}\n`;
	return out;
}

/** -v: per image, container, volume and build cache record, as `docker system df -v` lists them. */
function verboseText(r: DfReport): string {
	let out = '\nImages:\n';
	const images = [['REPOSITORY:TAG', 'IMAGE ID', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS']];
	for (const i of r.images) {
		if (i.intermediate) continue;
		images.push([
			clean(i.tags[0] ?? '<none>'),
			shortId(i.id),
			size(i.size),
			size(i.sharedSize),
			size(i.uniqueSize),
			String(i.containers),
		]);
	}
	out += table(images, new Set([2, 3, 4, 5]));
	out += '\nContainers:\n';
	const containers = [['CONTAINER ID', 'NAME', 'STATUS', 'SIZE RW', 'SIZE ROOTFS', 'LOGS']];
	for (const c of r.containers)
		containers.push([
			c.id.slice(0, 12),
			clean(c.name ?? ''),
			clean(c.status ?? '-'),
			size(c.sizeRw),
			size(c.sizeRootFs),
			size(c.logBytes),
		]);
	out += table(containers, new Set([3, 4, 5]));
	if (r.volumes.length === 0) out += '\nVolumes: none\n';
	else {
		out += '\nVolumes:\n';
		const volumes = [['VOLUME NAME', 'LINKS', 'SIZE']];
		for (const v of r.volumes) volumes.push([clean(v.name), String(v.containers), size(v.bytes)]);
		out += table(volumes, new Set([1, 2]));
	}
	if (r.buildCache.length > 0) {
		out += '\nBuild cache:\n';
		const records = [['CACHE ID', 'CACHE TYPE', 'SIZE', 'LAST USED', 'DESCRIPTION']];
		for (const b of r.buildCache)
			records.push([
				clean(b.id.slice(0, 12)),
				clean(b.type),
				size(b.size),
				clean(b.lastUsedAt ?? '-'),
				clean(b.description ?? ''),
			]);
		out += table(records, new Set([2]));
	}
	return out;
}

export function renderDf(r: DfReport, verbose: boolean): string {
	return ledgerText(r) + (verbose ? verboseText(r) : '');
}
