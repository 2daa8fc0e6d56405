import {append} from '../append.ts';
import type {Finding} from '../finding.ts';
import type {RawBuildCache} from '../read/buildkit.ts';
import {byString} from '../sources/source.ts';
import type {BuildCache, BuildRecord} from './types.ts';

/** BuildKit's cache records as the model keeps them: oldest first, every field present (null when not recorded). */
export function linkBuildCache(raw: RawBuildCache, findings: Finding[]): BuildCache {
	append(findings, raw.findings);
	const records: BuildRecord[] = raw.records.map(r => ({
		id: r.id,
		description: r.description ?? null,
		type: r.recordType ?? 'regular',
		size: r.size ?? null,
		createdAt: r.createdAt ?? null,
		lastUsedAt: r.lastUsedAt ?? null,
		usageCount: r.usageCount ?? null,
		parent: r.parent ?? null,
		committed: r.committed ?? null,
		diffId: r.diffId ?? null,
		blob: r.blob ?? null,
	}));
	records.sort((a, b) => byString(a.createdAt ?? '', b.createdAt ?? '') || byString(a.id, b.id));
	return {databases: raw.databases, records, size: records.reduce((n, r) => n + (r.size ?? 0), 0)};
}
