import fs from 'node:fs';
import {openDirSource} from './sources/dir-source.ts';
import {type RawHost, type ReadParts, allParts, readHost} from './read/host.ts';
import {containerdRoot} from './read/containerd/meta-db.ts';
import {mountSource} from './sources/mounted-source.ts';
import type {Source} from './sources/source.ts';
import {isContainerdMarker, openTarSource} from './sources/tar-source.ts';
import {finding} from './finding.ts';
import {link} from './model/link.ts';
import {runFastChecks} from './checks/index.ts';
import {type Read, lookAgain} from './checks/look-again.ts';
import {type Liveness, type Signature, signature} from './sources/live.ts';
import type {Model} from './model/types.ts';

/** The linked model, the open root, and what the readers found (the checks need all three). */
export type Loaded = {
	readonly model: Model;
	readonly source: Source;
	readonly raw: RawHost;
	readonly isDockerRoot: boolean;
};

/** Runs readers → link on an open root. Findings from opening an archive (truncation, bad headers) are kept. */
export function loadModel(source: Source, parts: ReadParts = allParts): Loaded {
	const raw = readHost(source, parts);
	const problems = (source as {problems?: string[]}).problems ?? [];
	for (const p of problems) raw.findings.push(finding('error', 'archive.damaged', 'root', p));
	// What the door to the evidence could not promise here (sources/dir-source.ts), read after the readers ran.
	if (source.unprotected !== undefined)
		raw.findings.push(finding('warning', 'source.unprotected', 'root', source.unprotected));
	const atimes = source.atimeLimit;
	if (atimes !== undefined)
		raw.findings.push(
			finding('warning', 'source.atimes', 'root', `access times in the root may change while it is read: ${atimes}`),
		);
	const model = link(raw);
	const mounted = source.mounted;
	// Paths stay virtual (relative to the Docker root): the model says where those under containerd/daemon really are.
	return {
		model:
			mounted === undefined
				? model
				: {...model, containerdRoot: {location: mounted.location, kind: mounted.kind, shownAs: mounted.at}},
		source,
		raw,
		isDockerRoot: raw.isDockerRoot,
	};
}

/**
 * loadModel, read again when the root is live or changed while it was read and the model has
 * errors or warnings (checks/look-again.ts): the last read, without the findings that were only
 * mid-operation, with root.live and root.changed-while-read as they apply. `before` is the root's
 * signature from before anything was read.
 */
export async function loadSteadyModel(
	source: Source,
	parts: ReadParts,
	live: Liveness,
	before: Signature,
): Promise<Loaded> {
	const read = (b: Signature): Read<Loaded> => {
		const value = loadModel(source, parts);
		return {value, findings: value.model.findings, before: b, after: signature(source, live.live)};
	};
	const r = await lookAgain(read(before), () => read(signature(source, live.live)), {live});
	if (r.reads === 1 && r.extra.length === 0) return r.value;
	return {...r.value, model: {...r.value.model, findings: [...r.value.model.findings.filter(r.keep), ...r.extra]}};
}

/**
 * The model with the findings of the fast checks too (integrity, driver records, orphans and
 * leftovers; not --deep): what the interactive UI marks on its nodes and counts.
 */
export function loadCheckedModel(source: Source, parts: ReadParts = allParts): Loaded {
	const loaded = loadModel(source, parts);
	const report = runFastChecks({source: loaded.source, raw: loaded.raw, model: loaded.model});
	return {...loaded, model: {...loaded.model, findings: [...report.findings]}};
}

/** Opens a directory as a root (synchronous: no archive). */
export function openSource(root: string): Source {
	return openDirSource(root);
}

export type OpenResult = {readonly ok: true; readonly source: Source} | {readonly ok: false; readonly error: string};

/**
 * Opens what --root names: a directory, or a .tar / .tar.gz / .tgz archive of a Docker root
 * (read in place, never extracted). Errors come back as one line for the user.
 */
export async function openRoot(
	root: string,
	onProgress?: (bytes: number) => void,
	layout: 'docker' | 'containerd' = 'docker',
): Promise<OpenResult> {
	let st: fs.Stats;
	try {
		st = fs.statSync(root);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		return {
			ok: false,
			error:
				code === 'ENOENT'
					? `${root}: no such directory or archive`
					: code === 'EACCES'
						? `${root}: permission denied`
						: `${root}: cannot be read (${code})`,
		};
	}
	if (st.isDirectory()) {
		try {
			fs.accessSync(root, fs.constants.R_OK | fs.constants.X_OK);
		} catch {
			return {ok: false, error: `${root}: permission denied`};
		}
		return {ok: true, source: openDirSource(root)};
	}
	if (!st.isFile()) return {ok: false, error: `${root}: not a directory or an archive`};
	const opened = await openTarSource(root, {layout, ...(onProgress === undefined ? {} : {onProgress})});
	if (!opened.ok) return {ok: false, error: `${root}: ${opened.error.message}`};
	return {ok: true, source: opened.value};
}

/**
 * Opens the Docker root, and with --containerd-root a system containerd's root (a directory or an
 * archive, e.g. /var/lib/containerd) mounted at containerd/daemon (mounted-source.ts), where a
 * dockerd-managed containerd keeps the same data. Refused (one line for the user): a containerd
 * root without any io.containerd.* directory, and a Docker root that has its own non-empty
 * containerd/daemon, which the mount would hide.
 */
export async function openRoots(
	root: string,
	containerd: string | null,
	onProgress?: (bytes: number) => void,
): Promise<OpenResult> {
	const base = await openRoot(root, onProgress);
	if (!base.ok || containerd === null) return base;
	const own = base.source.list(containerdRoot);
	if (own.ok && own.value.length > 0) {
		return {
			ok: false,
			error: `${root} has its own containerd store in ${containerdRoot}/ (a containerd dockerd started itself); --containerd-root would hide it: leave the option out`,
		};
	}
	const inner = await openRoot(containerd, onProgress, 'containerd');
	if (!inner.ok) return {ok: false, error: `--containerd-root ${inner.error}`};
	const top = inner.source.list('');
	if (!top.ok || !top.value.some(e => e.kind === 'dir' && isContainerdMarker(e.name))) {
		return {
			ok: false,
			error: `--containerd-root ${containerd}: not a containerd root (no io.containerd.metadata.v1.bolt/, io.containerd.content.v1.content/ or io.containerd.snapshotter.v1.*/)`,
		};
	}
	return {ok: true, source: mountSource(base.source, containerdRoot, inner.source)};
}
