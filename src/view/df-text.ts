import {append} from '../append.ts';
import type {DfReport} from '../disk/report.ts';
import {shortId} from '../model/ids.ts';
import {humanSize} from '../units.ts';
import {type Line, lineText, plainLines, seg, t} from './line.ts';

/** Columns of cleaned cells, padded (right-aligned where asked), three spaces apart; the last column is not padded. */
function table(rows: string[][], right: ReadonlySet<number>): Line[] {
	const cells = rows.map(r => r.map(cell => lineText([seg(cell)])));
	const widths = cells[0]!.map((_, i) => cells.reduce((w, r) => Math.max(w, r[i]!.length), 0));
	return cells.map(r => [
		seg(
			r
				.map((cell, i) =>
					i === r.length - 1 ? cell : right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
				)
				.join('   ')
				.trimEnd(),
		),
	]);
}

const size = (n: number | null): string => humanSize(n);

function totalLines(r: DfReport): Line[] {
	const total = r.total;
	const allocated =
		r.sourceKind === 'archive'
			? ' (an archive has no block counts: allocated size unknown)'
			: total.blocks === null
				? ' (allocated size unknown: this reader gives no block counts)'
				: `; ${size(total.blocks)} (${total.blocks} bytes) allocated, directories included`;
	const out: Line[] = [
		[],
		t`Total: ${size(total.bytes)} (${total.bytes} bytes) apparent in ${total.files} files and symlinks${allocated}`,
	];
	if (total.unknown > 0)
		out.push(
			t`Unknown size: ${total.unknown} path${total.unknown === 1 ? '' : 's'} could not be read (see the findings below)`,
		);
	return out;
}

/** The ledger: one row per category, then the totals, what is left unattributed and the orphans. */
function ledgerLines(r: DfReport): Line[] {
	const rows = [['CATEGORY', 'SIZE', 'COUNT', 'RECLAIMABLE', 'RECLAIM BY']];
	for (const c of r.categories) {
		if (c.bytes === 0 && c.count === 0) continue;
		rows.push([c.kind, size(c.bytes), String(c.count), size(c.reclaimableBytes), c.reclaimBy ?? '']);
	}
	const out = append(table(rows, new Set([1, 2, 3])), totalLines(r));
	if (r.orphans.length > 0) {
		out.push([], t`Orphans and leftovers (docker never frees them):`);
		for (const o of r.orphans) out.push(t`  ${o.path}   ${size(o.bytes)}${o.code === null ? '' : `   ${o.code}`}`);
	}
	if (r.unattributed.length > 0) {
		out.push([], t`Other (no owner known):`);
		for (const u of r.unattributed) out.push(t`  ${u.path}   ${size(u.bytes)}`);
	}
	if (r.sparse.length > 0) {
		out.push([], t`Sparse files (apparent / allocated):`);
		for (const s of r.sparse) out.push(t`  ${s.path}   ${size(s.bytes)} / ${size(s.allocated)}`);
	}
	for (const f of r.findings) out.push(t`${f.severity}: ${f.code}: ${f.message}`);
	return out;
}

function imageLines(r: DfReport): Line[] {
	const images = [['REPOSITORY:TAG', 'IMAGE ID', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS']];
	for (const i of r.images) {
		if (i.intermediate) continue;
		images.push([
			i.tags[0] ?? '<none>',
			shortId(i.id),
			size(i.size),
			size(i.sharedSize),
			size(i.uniqueSize),
			String(i.containers),
		]);
	}
	return append([[], t`Images:`], table(images, new Set([2, 3, 4, 5])));
}

function containerLines(r: DfReport): Line[] {
	const containers = [['CONTAINER ID', 'NAME', 'STATUS', 'SIZE RW', 'SIZE ROOTFS', 'LOGS']];
	for (const c of r.containers)
		containers.push([
			c.id.slice(0, 12),
			c.name ?? '',
			c.status ?? '-',
			size(c.sizeRw),
			size(c.sizeRootFs),
			size(c.logBytes),
		]);
	return append([[], t`Containers:`], table(containers, new Set([3, 4, 5])));
}

function volumeAndCacheLines(r: DfReport): Line[] {
	const out: Line[] = [];
	if (r.volumes.length === 0) out.push([], t`Volumes: none`);
	else {
		const volumes = [['VOLUME NAME', 'LINKS', 'SIZE']];
		for (const v of r.volumes) volumes.push([v.name, String(v.containers), size(v.bytes)]);
		append(out, [[], t`Volumes:`], table(volumes, new Set([1, 2])));
	}
	if (r.buildCache.length > 0) {
		const records = [['CACHE ID', 'CACHE TYPE', 'SIZE', 'LAST USED', 'DESCRIPTION']];
		for (const b of r.buildCache)
			records.push([b.id.slice(0, 12), b.type, size(b.size), b.lastUsedAt ?? '-', b.description ?? '']);
		append(out, [[], t`Build cache:`], table(records, new Set([2])));
	}
	return out;
}

/** `df`'s text: the ledger, and with -v the per-object figures of `docker system df -v`. */
export function renderDf(r: DfReport, verbose: boolean): string {
	const lines = ledgerLines(r);
	if (verbose) append(lines, imageLines(r), containerLines(r), volumeAndCacheLines(r));
	return plainLines(lines);
}
