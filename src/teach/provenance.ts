/**
 * Where each setting of a container came from. `docker create` merges the user's request with
 * the image's config (the rules of moby's daemon/commit.go `merge` and daemon/create.go) and
 * stores the result as `Config` in config.v2.json; the request's host-side settings go to
 * hostconfig.json. Comparing the stored result with the image's config tells, field by field
 * and entry by entry, which values the image supplied, which the user asked for, and which the
 * daemon filled in.
 *
 * Pure: values are returned as stored (never cleaned); the views clean what they print.
 *
 * What cannot be told apart: a value the user gave that equals the image's (`-w /app` on an
 * image whose WORKDIR is /app) is marked `image`; a daemon configured with another default log
 * driver looks like a user's `--log-driver`.
 */
import {append} from '../append.ts';
import {shortId} from '../model/ids.ts';
import type {Container, Image, Model} from '../model/types.ts';
import {imageById} from '../model/indexes.ts';

/**
 * image: the image's config supplied it (the user gave nothing, or the same value);
 * user: it came with the create request (a flag, a command, or the docker client's own default for it);
 * daemon: the daemon filled it in (the host name, the default log driver, ...);
 * default: empty or zero: nobody set it;
 * unknown: the image's config is not available, so the origin cannot be told.
 */
export type Origin = 'image' | 'user' | 'daemon' | 'default' | 'unknown';

export type ConfigMark = {
	/** Field of Config (`Env`, `Cmd`, ...). */
	readonly field: string;
	/** For Env, Labels, Volumes and ExposedPorts: the entry's key; null for a whole field. */
	readonly key: string | null;
	/** The container's value (for an entry: the entry's value; undefined when only the image has it). */
	readonly value: unknown;
	readonly origin: Origin;
	/** The image's value, when it differs from the container's (what the user replaced). */
	readonly imageValue?: unknown;
	/** Why, in a few words. */
	readonly note: string | null;
};

export type HostMark = {
	readonly field: string;
	readonly value: unknown;
	/** user: not a default; daemon: a default the daemon fills in; default: the client's default or a zero value. */
	readonly origin: 'user' | 'daemon' | 'default';
	readonly note: string | null;
};

export type Provenance = {
	readonly containerId: string;
	readonly containerName: string | null;
	readonly imageId: string | null;
	/** The image's config was found, so origins could be told. */
	readonly imageKnown: boolean;
	readonly config: ConfigMark[];
	/** Path and Args joined: what the daemon runs, derived by it from Entrypoint and Cmd. */
	readonly command: string | null;
	readonly host: HostMark[];
};

type Json = Record<string, unknown>;

function obj(v: unknown): Json | null {
	return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
}

/** o[k] only when k is o's own key: a key from the evidence such as "constructor" or "__proto__" never reaches Object.prototype. */
function own<T>(o: Readonly<Record<string, T>> | null | undefined, k: string): T | undefined {
	return o !== null && o !== undefined && Object.hasOwn(o, k) ? o[k] : undefined;
}

/** Null, undefined, '', false, 0, [] and {} are all "not set". */
export function isEmpty(v: unknown): boolean {
	if (v === null || v === undefined || v === '' || v === false || v === 0) return true;
	if (Array.isArray(v)) return v.length === 0;
	const o = obj(v);
	return o !== null && Object.keys(o).length === 0;
}

/** Deep equality of two stored values; `depth` bounds it (parseJson already cuts evidence at maxJsonDepth). */
function sameValue(a: unknown, b: unknown, depth = 0): boolean {
	if (a === b) return true;
	if (depth > 256) return false;
	if (isEmpty(a) && isEmpty(b))
		return (
			typeof a === typeof b ||
			a === null ||
			b === null ||
			a === undefined ||
			b === undefined ||
			(Array.isArray(a) && obj(b) === null) ||
			(Array.isArray(b) && obj(a) === null)
		);
	if (Array.isArray(a) && Array.isArray(b))
		return a.length === b.length && a.every((x, i) => sameValue(x, b[i], depth + 1));
	const oa = obj(a);
	const ob = obj(b);
	if (oa !== null && ob !== null) {
		const ka = Object.keys(oa).filter(k => oa[k] !== undefined);
		const kb = Object.keys(ob).filter(k => ob[k] !== undefined);
		return ka.length === kb.length && ka.every(k => Object.hasOwn(ob, k) && sameValue(oa[k], ob[k], depth + 1));
	}
	return false;
}

/** Config fields in the order they are shown; fields not listed follow, sorted by name. */
const fieldOrder = [
	'Image',
	'Entrypoint',
	'Cmd',
	'Env',
	'WorkingDir',
	'User',
	'ExposedPorts',
	'Volumes',
	'Labels',
	'Hostname',
	'Domainname',
	'Tty',
	'OpenStdin',
	'StdinOnce',
	'AttachStdin',
	'AttachStdout',
	'AttachStderr',
	'Healthcheck',
	'StopSignal',
	'StopTimeout',
	'Shell',
	'OnBuild',
	'ArgsEscaped',
	'MacAddress',
	'NetworkDisabled',
];

/** Fields whose only source is the create request (docker run / create flags), never the image. */
const requestOnly: Record<string, string> = {
	Tty: '-t: a terminal',
	OpenStdin: '-i: stdin kept open',
	StdinOnce: 'the client closes stdin after the first attach (-i without -d)',
	AttachStdin: 'the client attaches stdin (-i, or -a stdin)',
	AttachStdout: 'the client attaches stdout (its default for create and for run without -d)',
	AttachStderr: 'the client attaches stderr (its default for create and for run without -d)',
};

const entryFields = new Set(['Env', 'Labels', 'Volumes', 'ExposedPorts']);

function envPairs(v: unknown): Array<[string, string | null, unknown]> {
	if (!Array.isArray(v)) return [];
	return v.map(e => {
		if (typeof e !== 'string') return [JSON.stringify(e) ?? String(e), null, e] as [string, string | null, unknown];
		const i = e.indexOf('=');
		return (i < 0 ? [e, null, e] : [e.slice(0, i), e.slice(i + 1), e]) as [string, string | null, unknown];
	});
}

function entryMarks(field: string, value: unknown, image: Json | null, hostConfig: Json | null): ConfigMark[] {
	const imageValue = own(image, field);
	const marks: ConfigMark[] = [];
	if (field === 'Env') {
		const mine = envPairs(value);
		const theirs = new Map(envPairs(imageValue).map(([k, v, raw]) => [k, {v, raw}]));
		for (const [k, v, raw] of mine) {
			if (image === null) {
				marks.push({field, key: k, value: raw, origin: 'unknown', note: null});
				continue;
			}
			const t = theirs.get(k);
			if (t === undefined)
				marks.push({field, key: k, value: raw, origin: 'user', note: 'not in the image: added with -e or --env-file'});
			else if (t.v === v) marks.push({field, key: k, value: raw, origin: 'image', note: null});
			else
				marks.push({field, key: k, value: raw, origin: 'user', imageValue: t.raw, note: "replaces the image's value"});
		}
		const mineKeys = new Set(mine.map(([k]) => k));
		for (const [k, , raw] of envPairs(imageValue))
			if (!mineKeys.has(k))
				marks.push({
					field,
					key: k,
					value: undefined,
					origin: 'user',
					imageValue: raw,
					note: 'in the image but not in the container',
				});
	} else {
		const mine = obj(value) ?? {};
		const theirs = obj(imageValue) ?? {};
		const ports = obj(hostConfig?.PortBindings) ?? {};
		for (const [k, v] of Object.entries(mine)) {
			if (image === null) {
				marks.push({field, key: k, value: v, origin: 'unknown', note: null});
				continue;
			}
			const published =
				field === 'ExposedPorts' && Object.hasOwn(ports, k) ? 'also published with -p (which exposes it too)' : null;
			if (!Object.hasOwn(theirs, k)) {
				const how =
					field === 'Labels'
						? 'added with -l or --label'
						: field === 'Volumes'
							? 'added with -v PATH (an anonymous volume) or --mount'
							: (published ?? 'added with --expose or -p');
				marks.push({field, key: k, value: v, origin: 'user', note: how});
			} else if (sameValue(theirs[k], v)) marks.push({field, key: k, value: v, origin: 'image', note: published});
			else
				marks.push({
					field,
					key: k,
					value: v,
					origin: 'user',
					imageValue: theirs[k],
					note: "replaces the image's value",
				});
		}
		for (const [k, v] of Object.entries(theirs))
			if (!Object.hasOwn(mine, k))
				marks.push({
					field,
					key: k,
					value: undefined,
					origin: 'user',
					imageValue: v,
					note: 'in the image but not in the container',
				});
	}
	if (marks.length === 0) marks.push({field, key: null, value, origin: 'default', note: null});
	return marks;
}

function fieldMark(
	field: string,
	value: unknown,
	c: Container,
	image: Json | null,
	config: Json,
	hostConfig: Json | null,
): ConfigMark {
	if (field === 'Image')
		return {
			field,
			key: null,
			value,
			origin: 'user',
			note: 'the image reference as typed; the container is linked to the image by id',
		};
	if (Object.hasOwn(requestOnly, field))
		return isEmpty(value)
			? {field, key: null, value, origin: 'default', note: null}
			: {field, key: null, value, origin: 'user', note: own(requestOnly, field)!};
	if (field === 'Hostname') return hostnameMark(value, c, hostConfig);
	if (field === 'NetworkDisabled') return networkDisabledMark(value, c, hostConfig);
	if (image === null) return {field, key: null, value, origin: isEmpty(value) ? 'default' : 'unknown', note: null};
	return imageFieldMark(field, value, image, config);
}

/** Config.Hostname: empty, the daemon's default (short id, or the host's name with --network host), or --hostname. */
function hostnameMark(value: unknown, c: Container, hostConfig: Json | null): ConfigMark {
	const field = 'Hostname';
	if (isEmpty(value)) return {field, key: null, value, origin: 'default', note: null};
	if (typeof value === 'string' && value === shortId(c.id))
		return {
			field,
			key: null,
			value,
			origin: 'daemon',
			note: 'no --hostname: the daemon uses the first 12 characters of the container id',
		};
	if (hostConfig?.NetworkMode === 'host')
		return {
			field,
			key: null,
			value,
			origin: 'daemon',
			note: "with --network host the daemon uses the host's own name",
		};
	return {field, key: null, value, origin: 'user', note: '--hostname'};
}

/** The docker run flag that sets each field a user can give. */
const setBy: Record<string, string> = {
	Entrypoint: '--entrypoint',
	Cmd: 'the command after the image name',
	WorkingDir: '-w / --workdir',
	User: '-u / --user',
	Domainname: '--domainname',
	Healthcheck: '--health-cmd and related flags',
	StopSignal: '--stop-signal',
	StopTimeout: '--stop-timeout',
	MacAddress: '--mac-address',
};

/** A field the image also sets: the same, an empty default, or the user's value replacing the image's. */
function imageFieldMark(field: string, value: unknown, image: Json, config: Json): ConfigMark {
	const imageValue = own(image, field);
	if (field === 'OnBuild' && isEmpty(value)) {
		return isEmpty(imageValue)
			? {field, key: null, value, origin: 'default', note: null}
			: {
					field,
					key: null,
					value,
					origin: 'default',
					imageValue,
					note: 'ONBUILD triggers run in builds FROM the image, never in its containers',
				};
	}
	if (isEmpty(value) && isEmpty(imageValue)) return {field, key: null, value, origin: 'default', note: null};
	if (sameValue(value, imageValue)) return {field, key: null, value, origin: 'image', note: null};
	if (
		field === 'Cmd' &&
		isEmpty(value) &&
		!isEmpty(config.Entrypoint) &&
		!sameValue(config.Entrypoint, image.Entrypoint)
	) {
		return {
			field,
			key: null,
			value,
			origin: 'user',
			imageValue,
			note: "--entrypoint was given, so the image's Cmd is dropped",
		};
	}
	const note = isEmpty(value)
		? field === 'Entrypoint' || field === 'Cmd'
			? "set empty in the request, so the image's value is not used"
			: "empty, though the image sets it (docker create would have kept the image's value)"
		: isEmpty(imageValue)
			? (own(setBy, field) ?? 'set in the create request')
			: `${own(setBy, field) ?? 'set in the create request'}; replaces the image's value`;
	return {field, key: null, value, origin: 'user', ...(isEmpty(imageValue) ? {} : {imageValue}), note};
}

/**
 * Config.NetworkDisabled. The docker CLI never sets it (`--network none` sets HostConfig.NetworkMode
 * "none"); an API client can. The daemon sets it itself when it runs with `--bridge none` and starts a
 * container on the default network (moby daemon/container_operations.go connectToNetwork: no "bridge"
 * network, so networking is disabled). Such a container was created with the default bridge endpoint in
 * NetworkSettings.Networks (with no network id), which a create request with NetworkDisabled never gets.
 */
function networkDisabledMark(value: unknown, c: Container, hostConfig: Json | null): ConfigMark {
	const field = 'NetworkDisabled';
	if (value !== true) return {field, key: null, value, origin: 'default', note: null};
	const mode = hostConfig?.NetworkMode;
	const networks = obj(obj(c.stored?.NetworkSettings)?.Networks);
	const bridge = networks === null ? null : obj(networks.bridge);
	const defaultMode = mode === 'default' || mode === 'bridge' || mode === '' || mode === undefined;
	if (defaultMode && bridge !== null && isEmpty(bridge.NetworkID) && c.startedAt !== null) {
		return {
			field,
			key: null,
			value,
			origin: 'daemon',
			note: 'set by the daemon at start: it runs with --bridge none, so the default network does not exist and the container has no network (NetworkMode is still "default")',
		};
	}
	return {
		field,
		key: null,
		value,
		origin: 'user',
		note: 'NetworkDisabled in the create request (the Engine API; the docker CLI never sets it: --network none sets NetworkMode "none")',
	};
}

// hostconfig.json: defaults the daemon fills in at create time (moby 17 to 28), and the docker client's defaults.
const defaultMasked = [
	'/proc/asound',
	'/proc/acpi',
	'/proc/kcore',
	'/proc/keys',
	'/proc/latency_stats',
	'/proc/timer_list',
	'/proc/timer_stats',
	'/proc/sched_debug',
	'/proc/scsi',
	'/sys/firmware',
];
const defaultReadonly = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function hostMark(field: string, value: unknown): HostMark {
	const daemon = (note: string): HostMark => ({field, value, origin: 'daemon', note});
	const client = (note: string): HostMark => ({field, value, origin: 'default', note});
	switch (field) {
		case 'LogConfig': {
			const o = obj(value);
			if (o !== null && o.Type === 'json-file' && isEmpty(o.Config))
				return daemon("the daemon's default log driver, json-file");
			if (o !== null && isEmpty(o.Type)) return client('no log driver recorded');
			break;
		}
		case 'NetworkMode':
			if (value === 'default' || value === '') return client('the default network (bridge on Linux)');
			break;
		case 'RestartPolicy': {
			const o = obj(value);
			if (o === null || ((o.Name === 'no' || isEmpty(o.Name)) && isEmpty(o.MaximumRetryCount)))
				return client('never restarted');
			break;
		}
		case 'ShmSize':
			if (value === 67108864) return daemon("the daemon's default /dev/shm size, 64 MiB");
			break;
		case 'Runtime':
			if (value === 'runc') return daemon("the daemon's default runtime");
			break;
		case 'IpcMode':
			if (value === 'private' || value === 'shareable') return daemon(`the daemon's default IPC mode (${value})`);
			break;
		case 'CgroupnsMode':
			if (value === 'host' || value === 'private')
				return daemon(`the daemon's default cgroup namespace mode (${value})`);
			break;
		case 'MaskedPaths':
			if (sameValue(value, defaultMasked))
				return daemon('the default list of /proc and /sys paths hidden from the container');
			break;
		case 'ReadonlyPaths':
			if (sameValue(value, defaultReadonly)) return daemon('the default list of /proc paths made read-only');
			break;
		case 'ConsoleSize':
			if (Array.isArray(value) && value.every(isEmpty)) return client('no terminal size');
			if (Array.isArray(value))
				return {field, value, origin: 'user', note: 'the size of the terminal the client ran in (-t)'};
			break;
		case 'MemorySwappiness':
			if (value === -1) return client('-1: how older clients (Docker 17) wrote "not set"');
			break;
		case 'Isolation':
			if (value === 'default' || isEmpty(value)) return client('the platform default');
			break;
		default:
	}
	if (isEmpty(value)) return client('not set');
	return {field, value, origin: 'user', note: null};
}

/** The container's image in the model (same driver store), if present. */
export function imageOf(model: Model, c: Container): Image | undefined {
	if (c.imageId === null) return undefined;
	return imageById(model, c.imageId, c.driver) ?? imageById(model, c.imageId, null);
}

/** Marks every field of a container's Config (entries of Env, Labels, Volumes, ExposedPorts one by one) and of its host config. */
export function provenance(c: Container, image: Image | undefined): Provenance {
	const config = obj(c.config) ?? {};
	const imageConfig = image === undefined ? null : (obj(image.config) ?? (image.config === null ? {} : null));
	const hostConfig = obj(c.hostConfig);
	const keys = [
		...fieldOrder.filter(k => Object.hasOwn(config, k)),
		...Object.keys(config)
			.filter(k => !fieldOrder.includes(k))
			.sort(),
	];
	const marks: ConfigMark[] = [];
	for (const field of keys) {
		const value = config[field];
		if (entryFields.has(field)) append(marks, entryMarks(field, value, imageConfig, hostConfig));
		else marks.push(fieldMark(field, value, c, imageConfig, config, hostConfig));
	}
	const host = hostConfig === null ? [] : Object.entries(hostConfig).map(([k, v]) => hostMark(k, v));
	return {
		containerId: c.id,
		containerName: c.name,
		imageId: c.imageId,
		imageKnown: imageConfig !== null,
		config: marks,
		command: c.command,
		host,
	};
}
