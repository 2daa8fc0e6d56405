import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import {type LinkTable, linkTargetId, readAufsLayers} from '../read/drivers/records.ts';
import {driverInfo} from '../read/drivers/registry.ts';
import type {ChainWalk} from './lookups.ts';
import {type Check, type CheckContext, type CheckResult, skipped, verdict} from './types.ts';

/**
 * Driver records against layerdb: what the storage driver itself recorded about a directory's
 * ancestors (overlay2/fuse-overlayfs `lower` through the `l/` symlinks, aufs `layers/<id>`,
 * windowsfilter `layerchain.json`)
 * must be the chain layerdb says; overlay2's `link` file and its `l/` symlink must agree.
 */

const short = (id: string): string => (id.length > 16 ? `${id.slice(0, 12)}…` : id);

const markersCache = new WeakMap<CheckContext, Map<string, boolean>>();

/** Whether this daemon writes overlay2 `committed` markers (19.03.x and later): some directory has one. */
function writesMarkers(ctx: CheckContext, driver: string): boolean {
	let m = markersCache.get(ctx);
	if (m === undefined) markersCache.set(ctx, (m = new Map()));
	const hit = m.get(driver);
	if (hit !== undefined) return hit;
	let found = false;
	for (const id of ctx.index.children(driver).keys()) {
		if (ctx.index.hasDir(driver, id) && ctx.index.committed(driver, id)) {
			found = true;
			break;
		}
	}
	m.set(driver, found);
	return found;
}

/** A container's RW layer: its link file read (a symlink or other damage is a warning), and its l/ entry a symlink to ../<id>/diff. */
function rwLinkFindings(ctx: CheckContext, driver: string, id: string, subject: string, what: string): Finding[] {
	const dir = `${driver}/${id}`;
	const link = ctx.index.overlay(driver, id, 'link', subject);
	const out: Finding[] = link.findings.map(f => ({
		...f,
		severity: 'warning' as const,
		message: `${what} ${f.message} (nothing is mounted through it, but overlay2 writes a regular file there)`,
	}));
	if (link.text === undefined || link.text === '') return out;
	if (!/^[A-Za-z0-9_-]{1,128}$/.test(link.text)) {
		out.push(
			finding(
				'warning',
				'driver.link-broken',
				subject,
				`${what} ${dir}: its link file holds ${JSON.stringify(link.text)}, not a short name overlay2 makes`,
				`${dir}/link`,
			),
		);
		return out;
	}
	const links = ctx.index.links(driver);
	const at = `${driver}/l/${link.text}`;
	const other = links.others.get(link.text);
	const target = links.targets.get(link.text);
	if (other !== undefined)
		out.push(
			finding(
				'warning',
				'driver.link-broken',
				subject,
				`${what} ${dir}: ${at}, which its link file names, is a ${other}, not the symlink to ../${id}/diff overlay2 makes`,
				at,
			),
		);
	else if (target === undefined)
		out.push(
			finding(
				'warning',
				'driver.link-broken',
				subject,
				`${what} ${dir}: its link file names ${JSON.stringify(link.text)} but ${driver}/l/ has no such symlink (overlay2 makes one for every layer)`,
				`${dir}/link`,
			),
		);
	else if (linkTargetId(target) !== id)
		out.push(
			finding(
				'warning',
				'driver.link-broken',
				subject,
				`${what} ${dir}: ${at} points to ${JSON.stringify(target)}, not ../${id}/diff`,
				at,
			),
		);
	return out;
}

function describeChain(ids: readonly string[]): string {
	return ids.length === 0 ? 'none' : ids.map(short).join(', ');
}

/** A layer something is built on: its link file names its short name, and l/<short> is the symlink to ../<id>/diff. */
function linkFindings(
	ctx: CheckContext,
	links: LinkTable,
	driver: string,
	id: string,
	subject: string,
	what: string,
): Finding[] {
	const findings: Finding[] = [];
	const dir = `${driver}/${id}`;
	const link = ctx.index.overlay(driver, id, 'link', subject);
	append(findings, link.findings);
	if (!link.present) {
		findings.push(
			finding(
				'error',
				'driver.link-broken',
				subject,
				`${what} ${dir} has no link file: its short name is unknown, so no layer can be mounted on top of it`,
				`${dir}/link`,
			),
		);
	} else if (link.text !== undefined) {
		const target = /^[A-Za-z0-9_-]{1,128}$/.test(link.text) ? links.targets.get(link.text) : undefined;
		const other = links.others.get(link.text);
		if (target === undefined && other !== undefined) {
			findings.push(
				finding(
					'error',
					'driver.link-broken',
					subject,
					`${what} ${dir}: its link file names ${JSON.stringify(link.text)} but ${driver}/l/${link.text} is a ${other}, not a symlink, so layers on top of it cannot be mounted`,
					`${driver}/l/${link.text}`,
				),
			);
		} else if (target === undefined) {
			findings.push(
				finding(
					'error',
					'driver.link-broken',
					subject,
					`${what} ${dir}: its link file names ${JSON.stringify(link.text)} but ${driver}/l/ has no such symlink, so layers on top of it cannot be mounted`,
					`${dir}/link`,
				),
			);
		} else if (linkTargetId(target) !== id) {
			findings.push(
				finding(
					'error',
					'driver.link-broken',
					subject,
					`${what} ${dir}: ${driver}/l/${link.text} points to ${JSON.stringify(target)}, not ../${id}/diff, so layers on top of it would be mounted on the wrong directory`,
					`${driver}/l/${link.text}`,
				),
			);
		}
	}
	return findings;
}

/** Where a lower file's entries (l/<short>, resolved through l/) first differ from layerdb's chain of cache ids; undefined when they agree. */
function lowerDisagreement(
	lower: readonly string[],
	want: readonly string[],
	links: LinkTable,
	driver: string,
): string | undefined {
	const got = lower.map(entry => {
		const m = /^l\/([^/]+)$/.exec(entry);
		const target = m === null ? undefined : links.targets.get(m[1]!);
		return {entry, id: target === undefined ? undefined : linkTargetId(target)};
	});
	const bad = got.findIndex((g, i) => g.id !== want[i]);
	if (bad < 0 && got.length === want.length) return undefined;
	const i = bad >= 0 ? bad : Math.min(got.length, want.length);
	const g = got[i];
	return g === undefined
		? `it lists ${got.length} layer${got.length === 1 ? '' : 's'}, layerdb's chain has ${want.length}`
		: g.id === undefined
			? `entry ${i + 1} (${JSON.stringify(g.entry)}) does not resolve through ${driver}/l/`
			: `entry ${i + 1} (${g.entry}) is ${short(g.id)}, layerdb says ${want[i] === undefined ? 'nothing' : short(want[i])}`;
}

function overlayFindings(
	ctx: CheckContext,
	driver: string,
	id: string,
	expected: ChainWalk,
	subject: string,
	what: string,
): {findings: Finding[]; note?: string} {
	if (!ctx.index.hasDir(driver, id)) return {findings: [], note: `${driver}/${id} is missing`};
	const findings: Finding[] = [];
	const links = ctx.index.links(driver);
	const dir = `${driver}/${id}`;
	const kids = ctx.index.children(driver).get(id) ?? 0;
	// link: the layer's short name, and l/<short> → ../<id>/diff. Only layers something is built
	// on need it (their children's lower names it); for a container's RW layer (overlay2 makes both
	// for it too, nothing mounts through them) what is wrong with them is a warning.
	if (kids === 0 && what !== 'layer') append(findings, rwLinkFindings(ctx, driver, id, subject, what));
	if (kids > 0 || what === 'layer') append(findings, linkFindings(ctx, links, driver, id, subject, what));
	const lowerFile = ctx.index.overlay(driver, id, 'lower', subject);
	append(findings, lowerFile.findings);
	if (!expected.complete) return {findings, note: 'layerdb chain incomplete; lower not compared'};
	const want = expected.cacheIds;
	const lower = lowerFile.text === undefined ? undefined : lowerFile.text === '' ? [] : lowerFile.text.split(':');
	const lowerPath = `${dir}/lower`;
	if (want.length === 0) {
		if (lower !== undefined && lower.length > 0) {
			findings.push(
				finding(
					'error',
					'driver.lower-mismatch',
					subject,
					`${what} ${dir} is a base layer in layerdb, but its lower file lists ${lower.length} layer${lower.length === 1 ? '' : 's'}: it would be mounted on top of layers that are not its own`,
					lowerPath,
				),
			);
		}
	} else if (lower === undefined) {
		if (lowerFile.present) return {findings};
		findings.push(
			finding(
				'error',
				'driver.lower-mismatch',
				subject,
				`${what} ${dir} has no lower file, but layerdb says it is built on ${want.length} layer${want.length === 1 ? '' : 's'} (${describeChain(want)}): it would be mounted without them`,
				lowerPath,
			),
		);
	} else {
		const detail = lowerDisagreement(lower, want, links, driver);
		if (detail !== undefined) {
			findings.push(
				finding(
					'error',
					'driver.lower-mismatch',
					subject,
					`${what} ${dir}: its lower file disagrees with layerdb (${detail}); lower is what the kernel mounts, so the files seen through it are not the chain Docker and this report show`,
					lowerPath,
				),
			);
		}
	}
	if (kids > 0 && !ctx.index.committed(driver, id) && writesMarkers(ctx, driver)) {
		findings.push(
			finding(
				'info',
				'layer.uncommitted',
				subject,
				`${what} ${dir} has ${kids} layer${kids === 1 ? '' : 's'} built on it but no committed marker, which this daemon writes into a layer when a child is created (then mounts it read-only): an older daemon made its children, or the daemon stopped while creating one`,
				`${dir}/committed`,
			),
		);
	}
	return {findings};
}

function aufsFindings(
	ctx: CheckContext,
	driver: string,
	id: string,
	expected: ChainWalk,
	subject: string,
	what: string,
): {findings: Finding[]; note?: string} {
	if (!ctx.index.hasDir(driver, id)) return {findings: [], note: `aufs/diff/${id} is missing`};
	const rec = readAufsLayers(ctx.source, id, subject);
	const findings = [...rec.findings];
	if (!expected.complete) return {findings, note: 'layerdb chain incomplete; layers file not compared'};
	const path = `aufs/layers/${id}`;
	const want = expected.cacheIds;
	if (rec.ancestors === undefined) {
		if (rec.findings.length === 0)
			findings.push(
				finding(
					'error',
					'driver.lower-mismatch',
					subject,
					`${what}: ${path} is missing, so aufs does not know the ${want.length} layer${want.length === 1 ? '' : 's'} it is built on`,
					path,
				),
			);
		return {findings};
	}
	const got = rec.ancestors;
	const bad = got.findIndex((g, i) => g !== want[i]);
	if (bad >= 0 || got.length !== want.length) {
		const i = bad >= 0 ? bad : Math.min(got.length, want.length);
		const detail =
			got[i] === undefined
				? `it lists ${got.length} ancestor${got.length === 1 ? '' : 's'}, layerdb's chain has ${want.length}`
				: `line ${i + 1} is ${short(got[i]!)}, layerdb says ${want[i] === undefined ? 'nothing' : short(want[i])}`;
		findings.push(
			finding(
				'error',
				'driver.lower-mismatch',
				subject,
				`${what}: ${path} disagrees with layerdb (${detail}); aufs mounts the branches it lists, so the files seen are not the chain Docker and this report show`,
				path,
			),
		);
	}
	return {findings};
}

/**
 * windowsfilter: `<id>/layerchain.json` lists the layers below, nearest first, without the empty
 * `-init` layer (moby daemon/graphdriver/windows/windows.go create: only a parent with Files/ joins
 * the chain); the daemon mounts exactly those (read in read/drivers/meta.ts).
 */
function windowsFindings(
	ctx: CheckContext,
	driver: string,
	id: string,
	expected: ChainWalk,
	subject: string,
	what: string,
): {findings: Finding[]; note?: string} {
	if (!ctx.index.hasDir(driver, id)) return {findings: [], note: `windowsfilter/${id} is missing`};
	const path = `windowsfilter/${id}/layerchain.json`;
	const rec = ctx.raw.driverDirs.get(driver)?.records?.get(id)?.record;
	const got = rec?.fields.parentIds;
	if (rec === undefined || !Array.isArray(got)) return {findings: [], note: `${path} unreadable; not compared`};
	if (!expected.complete) return {findings: [], note: 'layerdb chain incomplete; layerchain.json not compared'};
	const want = expected.cacheIds.filter(c => !c.endsWith('-init'));
	const ids = got as readonly string[];
	const bad = ids.findIndex((g, i) => g !== want[i]);
	if (bad < 0 && ids.length === want.length) return {findings: []};
	const i = bad >= 0 ? bad : Math.min(ids.length, want.length);
	const detail =
		ids[i] === undefined
			? `it lists ${ids.length} layer${ids.length === 1 ? '' : 's'}, layerdb's chain has ${want.length}`
			: `entry ${i + 1} is ${short(ids[i]!)}, layerdb says ${want[i] === undefined ? 'nothing' : short(want[i])}`;
	return {
		findings: [
			finding(
				'error',
				'driver.lower-mismatch',
				subject,
				`${what} windowsfilter/${id}: its layerchain.json disagrees with layerdb (${detail}); the daemon mounts the layers it lists, so the files seen are not the chain Docker and this report show`,
				path,
			),
		],
	};
}

function recordFindings(
	ctx: CheckContext,
	driver: string,
	id: string,
	expected: ChainWalk,
	subject: string,
	what: string,
): {findings: Finding[]; note?: string} {
	const ancestry = driverInfo(driver)?.ancestry;
	if (ancestry === 'lower') return overlayFindings(ctx, driver, id, expected, subject, what);
	if (ancestry === 'layerchain') return windowsFindings(ctx, driver, id, expected, subject, what);
	return aufsFindings(ctx, driver, id, expected, subject, what);
}

/** The drivers that record a layer's ancestry themselves. */
const keepsAncestry = (driver: string | null): boolean => driverInfo(driver)?.ancestry !== undefined;

function toResult(subject: string, check: string, parts: Array<{findings: Finding[]; note?: string}>): CheckResult {
	const findings = parts.flatMap(p => p.findings);
	const notes = parts.flatMap(p => (p.note === undefined ? [] : [p.note]));
	if (findings.length === 0 && notes.length > 0 && notes.length === parts.length)
		return skipped(subject, check, notes.join('; '));
	return verdict(subject, check, findings, notes.length > 0 ? notes.join('; ') : undefined);
}

const layerDriverRecords: Check = {
	id: 'layer.driver-records',
	title:
		"the driver's own records (overlay2 lower/link/l, aufs layers, windowsfilter layerchain.json) agree with layerdb",
	objects: 'layer',
	codes: ['driver.lower-mismatch', 'driver.link-broken', 'layer.uncommitted'],
	claims: [],
	deep: false,
	run: ctx =>
		ctx.model.layers.flatMap(l => {
			if (!keepsAncestry(l.driver) || l.cacheId === null) return [];
			const subject = `layer:${l.chainId}`;
			const expected = ctx.index.chain(l.driver, l.parent ?? undefined);
			return [
				toResult(subject, 'layer.driver-records', [
					recordFindings(ctx, l.driver, l.cacheId, expected, subject, 'layer'),
				]),
			];
		}),
};

const containerDriverRecords: Check = {
	id: 'container.driver-records',
	title:
		"the driver's records of its RW and init layers (overlay2 lower/link/l, aufs layers, windowsfilter layerchain.json) agree with layerdb",
	objects: 'container',
	codes: ['driver.lower-mismatch', 'driver.link-broken', 'layer.uncommitted'],
	claims: [],
	deep: false,
	run: ctx =>
		ctx.model.containers.flatMap(c => {
			if (c.driver === null || !keepsAncestry(c.driver) || c.mountId === null) return [];
			const subject = `container:${c.id}`;
			const store = ctx.index.store(c.driver);
			const mount = store?.mounts.get(c.id);
			if (mount === undefined) return [];
			const image = ctx.index.chain(c.driver, mount.parent);
			const parts: Array<{findings: Finding[]; note?: string}> = [];
			if (c.initId !== null) {
				parts.push(recordFindings(ctx, c.driver, c.initId, image, subject, 'init layer'));
				parts.push(
					recordFindings(
						ctx,
						c.driver,
						c.mountId,
						{...image, cacheIds: [c.initId, ...image.cacheIds]},
						subject,
						'RW layer',
					),
				);
			} else parts.push(recordFindings(ctx, c.driver, c.mountId, image, subject, 'RW layer'));
			// A removal left half done deletes these directories first: what is missing is its progress, not damage to a layer in use.
			if (c.status === 'removing' || c.status === 'dead') {
				const code = c.status === 'removing' ? 'container.removal-interrupted' : 'container.dead';
				for (const p of parts) {
					p.findings = p.findings.map(f =>
						f.severity === 'error'
							? {
									...f,
									severity: 'warning' as const,
									message: `${f.message} — left by the unfinished removal (see ${code}): the daemon never mounts it again, and \`docker rm\` deletes it`,
								}
							: f,
					);
				}
			}
			return [toResult(subject, 'container.driver-records', parts)];
		}),
};

export const driverRecordChecks: readonly Check[] = [layerDriverRecords, containerDriverRecords];
