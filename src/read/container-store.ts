import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import {
	bool,
	digest,
	entryFindings,
	hex64,
	intField,
	obj,
	readJson,
	sourceErrorFinding,
	str,
	strArray,
} from './json-files.ts';
import type {Source} from '../sources/source.ts';

export type RawState = {
	readonly running: boolean;
	readonly paused: boolean;
	readonly restarting: boolean;
	readonly oomKilled: boolean;
	readonly removalInProgress: boolean;
	readonly dead: boolean;
	readonly pid?: number;
	readonly exitCode?: number;
	readonly error?: string;
	readonly startedAt?: string;
	readonly finishedAt?: string;
};

export type RawContainer = {
	/** The directory name under containers/. */
	readonly id: string;
	readonly path: string;
	/** config.v2.json was read and parsed. */
	readonly hasConfig: boolean;
	readonly name?: string;
	readonly image?: string;
	readonly driver?: string;
	readonly created?: string;
	readonly state?: RawState;
	/** The merged runtime config (`Config`), as stored. */
	readonly config?: Record<string, unknown>;
	readonly processPath?: string;
	readonly args?: string[];
	readonly mountPoints?: Record<string, unknown>;
	/** `NetworkSettings.Networks`: network name → endpoint settings (NetworkID, EndpointID, IPAddress, MacAddress), as stored. */
	readonly networks?: Record<string, unknown>;
	readonly hostConfig?: Record<string, unknown>;
	readonly restartCount?: number;
	/** Docker 24+ (containerd image store): `ImageManifest.digest`, the platform manifest the container was created from. */
	readonly imageManifest?: string;
	/** config.v2.json as stored, every top-level field but `Config` (State, LogPath, NetworkSettings, RestartCount, …). */
	readonly stored?: Record<string, unknown>;
	readonly findings: Finding[];
};

/** Lists containers/: one directory per container, named by its id. */
export function listContainerIds(source: Source): {ids: string[]; findings: Finding[]} {
	const findings: Finding[] = [];
	const listed = source.list('containers');
	if (!listed.ok) {
		if (listed.error.code !== 'missing')
			findings.push(
				sourceErrorFinding(
					listed.error,
					'root',
					'containers directory cannot be listed, so no container of this root is shown',
				),
			);
		return {ids: [], findings};
	}
	const ids: string[] = [];
	const strays = entryFindings(findings, 'root', 'containers');
	for (const e of listed.value) {
		const subject = hex64.test(e.name) ? `container:${e.name}` : 'root';
		const add = subject === 'root' ? strays.add : (f: Finding) => findings.push(f);
		if (e.kind === 'dir') {
			if (hex64.test(e.name)) ids.push(e.name);
			else
				add(
					finding(
						'warning',
						'entry.unexpected',
						'root',
						`unexpected entry "${e.name}" in containers/`,
						`containers/${e.name}`,
					),
				);
		} else if (e.kind === 'symlink') {
			add(
				finding(
					'error',
					'file.symlink',
					subject,
					`containers/${e.name} is a symlink; not followed`,
					`containers/${e.name}`,
				),
			);
		} else {
			add(
				finding(
					'error',
					'file.not-a-dir',
					subject,
					`containers/${e.name} is a ${e.kind}, not a directory`,
					`containers/${e.name}`,
				),
			);
		}
	}
	strays.done();
	return {ids, findings};
}

/** A whole-number field of config.v2.json (Go int): its value, or a finding with its exact text. */
function intOf(
	v: unknown,
	numbers: ReadonlyMap<string, string> | undefined,
	at: string[],
	subject: string,
	path: string,
	findings: Finding[],
	file: string,
): number | undefined {
	const r = intField(v, numbers, at);
	if (r.invalid !== undefined) {
		const why = /^-?[0-9]+$/.test(r.invalid)
			? 'beyond ±2^53, which layerlens cannot hold exactly'
			: 'not a whole number (Docker stores an int)';
		findings.push(
			finding(
				'error',
				'container.field-invalid',
				subject,
				`${file}: ${at.join('.')} is ${r.invalid}, ${why}; not used`,
				path,
			),
		);
	}
	return r.value;
}

function readState(
	v: unknown,
	subject: string,
	path: string,
	findings: Finding[],
	file = 'config.v2.json',
	numbers?: ReadonlyMap<string, string>,
): RawState | undefined {
	const s = obj(v);
	if (s === undefined) {
		findings.push(finding('error', 'container.field-invalid', subject, `${file} has no State object`, path));
		return undefined;
	}
	const pid = intOf(s.Pid, numbers, ['State', 'Pid'], subject, path, findings, file);
	const exitCode = intOf(s.ExitCode, numbers, ['State', 'ExitCode'], subject, path, findings, file);
	const error = str(s.Error);
	const startedAt = str(s.StartedAt);
	const finishedAt = str(s.FinishedAt);
	return {
		running: bool(s.Running) ?? false,
		paused: bool(s.Paused) ?? false,
		restarting: bool(s.Restarting) ?? false,
		oomKilled: bool(s.OOMKilled) ?? false,
		removalInProgress: bool(s.RemovalInProgress) ?? false,
		dead: bool(s.Dead) ?? false,
		...(pid !== undefined ? {pid} : {}),
		...(exitCode !== undefined ? {exitCode} : {}),
		...(error !== undefined && error !== '' ? {error} : {}),
		...(startedAt !== undefined ? {startedAt} : {}),
		...(finishedAt !== undefined ? {finishedAt} : {}),
	};
}

/**
 * Reads and checks containers/<id>/hostconfig.json. dockerd (container.FromDisk → readHostConfig)
 * loads a container without one with an empty host config, and does not load at all a container
 * whose hostconfig.json it cannot open or decode; a symlink it would follow, layerlens does not.
 */
export function readHostConfig(
	source: Source,
	id: string,
): {value: Record<string, unknown> | undefined; findings: Finding[]} {
	const subject = `container:${id}`;
	const path = `containers/${id}/hostconfig.json`;
	const h = readJson(source, path, subject, 'container host config', {
		optional: true,
		firstValue: true,
		consequence:
			'dockerd does not load a container whose hostconfig.json it cannot read or decode (docker ps -a does not list it), and its binds, ports, restart policy and limits are unknown',
	});
	if (h.value === undefined) {
		if (h.findings.length > 0)
			return {
				value: undefined,
				findings: h.findings.map(f =>
					f.code === 'file.symlink'
						? {
								...f,
								severity: 'warning' as const,
								message: `${f.message}: dockerd would read what it points to; its binds, ports, restart policy and limits are unknown`,
							}
						: f,
				),
			};
		return {
			value: undefined,
			findings: [
				finding(
					'warning',
					'container.hostconfig-missing',
					subject,
					'hostconfig.json is missing: dockerd loads such a container with an empty host config (no binds, port mappings, restart policy or limits), and what it had cannot be known',
					path,
				),
			],
		};
	}
	const value = obj(h.value.json);
	if (value === undefined)
		return {
			value: undefined,
			findings: [
				...h.findings,
				finding(
					'error',
					'json.shape',
					subject,
					'hostconfig.json is not a JSON object: dockerd does not load the container',
					path,
				),
			],
		};
	return {value, findings: h.findings};
}

// Long on purpose: run once per container (tens of thousands on a big host); split into named parts with a
// field-reader class it measured ~5% slower on `ls --json` over 3000 containers, so the fields stay inline.
/**
 * Reads containers/<id>/config.v2.json and hostconfig.json. `legacy`: a pre-1.10 root, whose
 * containers keep config.json (the reference layout notes §2, §4.1; moby@v1.9.1 daemon/container.go toDisk)
 * with the same fields (ID, Name, Image as a bare hex id, Driver, Created, State, Config, Path, Args).
 */
export function readContainer(
	source: Source,
	id: string,
	opts: {hostConfig?: boolean; legacy?: boolean} = {},
): RawContainer {
	const subject = `container:${id}`;
	const dir = `containers/${id}`;
	const file = opts.legacy === true ? 'config.json' : 'config.v2.json';
	const path = `${dir}/${file}`;
	const findings: Finding[] = [];
	// dockerd reads both files with json.Decoder (container/container.go FromDisk, readHostConfig): the first value.
	const r = readJson(source, path, subject, 'container config', {firstValue: true});
	let hostConfig: Record<string, unknown> | undefined;
	if (opts.hostConfig !== false) {
		const h = readHostConfig(source, id);
		// Without a config there is no container to load: a missing hostconfig.json says nothing more.
		append(
			findings,
			r.value === undefined ? h.findings.filter(f => f.code !== 'container.hostconfig-missing') : h.findings,
		);
		hostConfig = h.value;
	}
	const withHost = hostConfig !== undefined ? {hostConfig} : {};
	if (r.value === undefined) {
		// A pre-1.10 container keeps config.json instead; say so rather than calling it broken.
		if (opts.legacy !== true && r.findings[0]?.code === 'file.missing' && source.stat(`${dir}/config.json`).ok) {
			findings.push(
				finding(
					'error',
					'container.legacy-config',
					subject,
					'container has only a pre-1.10 config.json; not read yet',
					`${dir}/config.json`,
				),
			);
		} else {
			append(findings, r.findings);
		}
		return {id, path, hasConfig: false, ...withHost, findings};
	}
	append(findings, r.findings);
	const json = obj(r.value.json);
	if (json === undefined) {
		findings.push(finding('error', 'json.shape', subject, `${file} is not a JSON object`, path));
		return {id, path, hasConfig: false, ...withHost, findings};
	}
	const field = <T>(key: string, get: (v: unknown) => T | undefined): T | undefined => {
		const v = json[key];
		if (v === undefined || v === null) return undefined;
		const out = get(v);
		if (out === undefined)
			findings.push(finding('error', 'container.field-invalid', subject, `${file}: ${key} has the wrong type`, path));
		return out;
	};
	const configId = field('ID', str);
	if (configId !== undefined && configId !== id) {
		findings.push(
			finding(
				'error',
				'container.id-mismatch',
				subject,
				`${file} says its ID is ${configId}, not the directory name`,
				path,
			),
		);
	}
	const name = field('Name', str);
	const image = field('Image', str);
	const driver = field('Driver', str);
	const created = field('Created', str);
	const config = field('Config', obj);
	const entry = field('Path', str);
	const args = field('Args', strArray);
	const mountPoints = field('MountPoints', obj);
	const restartCount = intOf(json.RestartCount, r.value.numbers, ['RestartCount'], subject, path, findings, file);
	const networkSettings = field('NetworkSettings', obj);
	const networks = obj(networkSettings?.Networks);
	const manifest = str(obj(json.ImageManifest)?.digest);
	const imageManifest = manifest !== undefined && digest.test(manifest) ? manifest : undefined;
	const state = readState(json.State, subject, path, findings, file, r.value.numbers);
	const stored: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(json))
		if (k !== 'Config')
			Object.defineProperty(stored, k, {value: v, enumerable: true, writable: true, configurable: true});
	return {
		id,
		path,
		hasConfig: true,
		...(name !== undefined ? {name: name.replace(/^\//, '')} : {}),
		...(image !== undefined ? {image} : {}),
		...(driver !== undefined ? {driver} : {}),
		...(created !== undefined ? {created} : {}),
		...(state !== undefined ? {state} : {}),
		...(config !== undefined ? {config} : {}),
		...(entry !== undefined ? {processPath: entry} : {}),
		...(args !== undefined ? {args} : {}),
		...(mountPoints !== undefined ? {mountPoints} : {}),
		...(restartCount !== undefined ? {restartCount} : {}),
		...(networks !== undefined ? {networks} : {}),
		...(imageManifest !== undefined ? {imageManifest} : {}),
		stored,
		...withHost,
		findings,
	};
}
