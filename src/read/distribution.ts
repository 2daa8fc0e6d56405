import {type Finding, finding} from '../finding.ts';
import {append} from '../append.ts';
import {digest, hex64, obj, readJson, readText, sourceErrorFinding, str} from './json-files.ts';
import type {Source} from '../sources/source.ts';

/** One `v2metadata-by-diffid` entry: a compressed blob this layer was pulled or pushed as, and the repository it came from or went to. */
export type V2Metadata = {
	/** The compressed blob's digest (what the registry's manifest lists). */
	readonly digest: string;
	readonly sourceRepository: string | null;
	/** HMAC of the registry credentials the blob was pushed with ('' when none). */
	readonly hmac: string | null;
};

/**
 * image/<driver>/distribution/ (moby distribution/metadata): what the daemon remembers of registries,
 * per layer: `v2metadata-by-diffid/sha256/<diff id hex>` (a JSON list of {Digest, SourceRepository, HMAC})
 * and `diffid-by-digest/sha256/<blob digest hex>` (the diff id a compressed blob unpacks to).
 */
export type RawDistribution = {
	/** diff id → the blobs and repositories recorded for it. */
	readonly byDiffId: Map<string, V2Metadata[]>;
	/** compressed blob digest → diff id. */
	readonly diffIdByDigest: Map<string, string>;
	/** The same, diff id → blob digests. */
	readonly digestsByDiffId: Map<string, string[]>;
	readonly findings: Finding[];
};

/** v2metadata lists grow by one entry per repository a layer was pulled from or pushed to: a few KiB in practice. */
const metadataCap = 1024 * 1024;

function listFiles(source: Source, dir: string, subject: string, findings: Finding[]): string[] {
	const listed = source.list(dir);
	if (!listed.ok) {
		if (listed.error.code !== 'missing')
			findings.push(sourceErrorFinding(listed.error, subject, `${dir} (registry metadata)`, 'warning'));
		return [];
	}
	const out: string[] = [];
	for (const e of listed.value) {
		const at = `${dir}/${e.name}`;
		if (e.kind === 'symlink')
			findings.push(
				finding(
					'warning',
					'file.symlink',
					subject,
					`${at} is a symlink; not followed, so this registry record is not read`,
					at,
				),
			);
		else if (e.kind !== 'file')
			findings.push(finding('warning', 'file.not-a-file', subject, `${at} is a ${e.kind}, not a file; not read`, at));
		else if (!hex64.test(e.name))
			findings.push(finding('warning', 'entry.unexpected', subject, `unexpected entry "${e.name}" in ${dir}`, at));
		else out.push(e.name);
	}
	return out;
}

/** The distribution directory's two parts; `distribution/` itself and each part checked for symlinks before listing. */
function partDir(source: Source, driver: string, part: string, subject: string, findings: Finding[]): string | null {
	for (const rel of [
		`image/${driver}/distribution`,
		`image/${driver}/distribution/${part}`,
		`image/${driver}/distribution/${part}/sha256`,
	]) {
		const st = source.stat(rel);
		if (!st.ok) {
			if (st.error.code !== 'missing')
				findings.push(sourceErrorFinding(st.error, subject, `${rel} (registry metadata)`, 'warning'));
			return null;
		}
		if (st.value.kind === 'symlink') {
			findings.push(
				finding(
					'warning',
					'file.symlink',
					subject,
					`${rel} is a symlink; not followed, so the registry metadata under it is not read`,
					rel,
				),
			);
			return null;
		}
		if (st.value.kind !== 'dir') {
			findings.push(
				finding(
					'warning',
					'file.not-a-dir',
					subject,
					`${rel} is a ${st.value.kind}, not a directory; the registry metadata under it is not read`,
					rel,
				),
			);
			return null;
		}
	}
	return `image/${driver}/distribution/${part}/sha256`;
}

/** Reads image/<driver>/distribution/. Damaged entries are warnings on the store: they only lose registry provenance. */
export function readDistribution(source: Source, driver: string): RawDistribution {
	const subject = `store:${driver}`;
	const findings: Finding[] = [];
	const byDiffId = new Map<string, V2Metadata[]>();
	const diffIdByDigest = new Map<string, string>();
	const v2dir = partDir(source, driver, 'v2metadata-by-diffid', subject, findings);
	if (v2dir !== null) {
		for (const hex of listFiles(source, v2dir, subject, findings)) {
			const rel = `${v2dir}/${hex}`;
			const r = readJson(source, rel, subject, 'registry metadata (v2metadata-by-diffid)', {
				severity: 'warning',
				cap: metadataCap,
			});
			append(findings, r.findings);
			if (r.value === undefined) continue;
			const list = r.value.json;
			if (!Array.isArray(list)) {
				findings.push(finding('warning', 'json.shape', subject, `${rel} is not a JSON list`, rel));
				continue;
			}
			const entries: V2Metadata[] = [];
			let bad = 0;
			for (const item of list) {
				const o = obj(item);
				const d = str(o?.Digest);
				if (o === undefined || d === undefined || !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(d)) {
					bad++;
					continue;
				}
				entries.push({digest: d, sourceRepository: str(o.SourceRepository) ?? null, hmac: str(o.HMAC) ?? null});
			}
			if (bad > 0)
				findings.push(
					finding(
						'warning',
						'json.shape',
						subject,
						`${rel}: ${bad} of ${list.length} entries have no valid Digest; left out`,
						rel,
					),
				);
			byDiffId.set(`sha256:${hex}`, entries);
		}
	}
	const byDigestDir = partDir(source, driver, 'diffid-by-digest', subject, findings);
	if (byDigestDir !== null) {
		for (const hex of listFiles(source, byDigestDir, subject, findings)) {
			const rel = `${byDigestDir}/${hex}`;
			const r = readText(source, rel, subject, 'registry metadata (diffid-by-digest)');
			append(
				findings,
				r.findings.map(f => ({...f, severity: 'warning' as const})),
			);
			if (r.value === undefined) continue;
			if (!digest.test(r.value)) {
				findings.push(finding('warning', 'json.shape', subject, `${rel} does not hold a sha256 diff id`, rel));
				continue;
			}
			diffIdByDigest.set(`sha256:${hex}`, r.value);
		}
	}
	const digestsByDiffId = new Map<string, string[]>();
	for (const [blob, id] of diffIdByDigest) {
		const list = digestsByDiffId.get(id);
		if (list === undefined) digestsByDiffId.set(id, [blob]);
		else list.push(blob);
	}
	return {byDiffId, diffIdByDigest, digestsByDiffId, findings};
}

/** What a layer with this diff id was pulled or pushed as: its v2metadata entries, then blobs only diffid-by-digest names. */
export function distributionOf(d: RawDistribution | undefined, diffId: string | undefined | null): V2Metadata[] {
	if (d === undefined || diffId === undefined || diffId === null) return [];
	const out = [...(d.byDiffId.get(diffId) ?? [])];
	const known = new Set(out.map(e => e.digest));
	for (const blob of d.digestsByDiffId.get(diffId) ?? [])
		if (!known.has(blob)) out.push({digest: blob, sourceRepository: null, hmac: null});
	return out;
}
