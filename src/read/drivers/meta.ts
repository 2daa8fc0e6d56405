import {append} from '../../append.ts';
import {type Finding, finding} from '../../finding.ts';
import {caps, obj, readJson, sourceErrorFinding} from '../json-files.ts';
import {pathKey} from '../../formats/json-parse.ts';
import type {Source} from '../../sources/source.ts';

/**
 * What a storage driver records about a layer outside the layer's own files, and about itself,
 * read offline for the drivers whose layer content cannot be read from a copy of the root (or that
 * keep extra records):
 * - devicemapper (the reference layout notes §3.8; moby@v20.10.24 daemon/graphdriver/devmapper/deviceset.go):
 *   `devicemapper/metadata/<id>` one JSON device record per layer (devInfo: device_id, size,
 *   transaction_id, initialized, deleted), `metadata/base` the base device, `metadata/deviceset-metadata`
 *   (next_device_id, BaseDeviceUUID, BaseDeviceFilesystem), `metadata/transaction-metadata`
 *   (open_transaction_id, device_hash, device_id), and the loop-lvm pool files
 *   `devicemapper/devicemapper/{data,metadata}` (sparse: their size is what the pool was given);
 * - btrfs (§3.6; daemon/graphdriver/btrfs/btrfs.go): `btrfs/quotas/<id>`, the size limit in bytes
 *   (decimal, no newline) written for `--storage-opt size=` (for the RW layer and its init layer);
 * - windowsfilter (§3.9; daemon/graphdriver/windows/windows.go): `windowsfilter/<id>/layerchain.json`,
 *   the paths of the layers below, nearest first (the empty `-init` layer left out), `null` for a base layer;
 * - zfs (§3.7; daemon/graphdriver/zfs/zfs.go): nothing on disk; each layer is the dataset
 *   `<fsname>/<id>`, where fsname is the daemon's `zfs.fsname` option or the dataset mounted on the
 *   data root, which a copy of the root does not record.
 */

/** A value as the driver stored it, checked: null when absent, of the wrong type or out of range (and a finding says so). */
export type DriverValue = string | number | boolean | null | readonly string[];

/** What the driver records about one layer (or about itself), outside the layer's files. */
export type DriverRecord = {
	/** The file it was read from, relative to the root; null when it is derived from the layout (the zfs dataset). */
	readonly path: string | null;
	/** Fields under the names the driver stores them (JSON keys), or named for what they are. */
	readonly fields: Readonly<Record<string, DriverValue>>;
	/** What a reader should know about it (what a copy of the root cannot tell). */
	readonly note?: string;
};

/** A record about the driver itself (the device set, the pool files). */
export type HostDriverRecord = DriverRecord & {readonly driver: string; readonly what: string};

/** A layer's record as read: its findings carry the subject `store:<driver>` until linking names the layer or container. */
export type RawDriverRecord = {readonly record?: DriverRecord; readonly findings: Finding[]};

export type DriverMeta = {
	/** Layer id (cache id, mount id, `<mount id>-init`) → its record. */
	readonly records: ReadonlyMap<string, RawDriverRecord>;
	readonly host: readonly HostDriverRecord[];
	readonly findings: Finding[];
};

/** devmapper's device ids are 24 bits (maxDeviceID = 0xffffff); the daemon ignores a record above it. */
const maxDeviceId = 0xffffff;
/** Strings longer than this are not kept (a UUID, a file system name, a device hash are far shorter). */
const maxString = 1024;
/** layerchain.json entries kept (a chain deeper than Docker's own limits is refused). */
const maxChainPaths = 256;

export const devicemapperSkip = (name: string): boolean =>
	name === 'base' ||
	name === 'deviceset-metadata' ||
	name === 'transaction-metadata' ||
	name.startsWith('.') ||
	name.endsWith('.migrated');

type Spec = {
	readonly key: string;
	readonly type: 'uint' | 'string' | 'bool';
	readonly max?: number;
	readonly maxRejected?: boolean;
};

/** What the daemon does with a record it cannot parse, and how bad that is (moby's reader of each file). */
type Stakes = {readonly severity: 'error' | 'warning'; readonly consequence: string};

/** loadMetadata: json.Unmarshal fails or DeviceID > maxDeviceID → the device is unknown. */
const deviceStakes: Stakes = {
	severity: 'error',
	consequence: 'the daemon cannot load this device record, so the layer cannot be mounted',
};
/** setupBaseImage: a base device record loadMetadata rejects is as if there were none, and the daemon tries to make a new base device. */
const baseStakes: Stakes = {
	severity: 'error',
	consequence: 'the daemon cannot load the base device record and would try to create a new base device',
};
/** loadDeviceSetMetaData: an unmarshal error stops the driver's start. */
const deviceSetStakes: Stakes = {
	severity: 'error',
	consequence: 'the daemon cannot start the devicemapper driver with it',
};
/** loadTransactionMetaData ignores json.Unmarshal's error. */
const transactionStakes: Stakes = {severity: 'warning', consequence: 'the daemon ignores what it cannot parse'};
/** getLayerChain: an unmarshal error fails every mount of the layer. */
const chainStakes: Stakes = {severity: 'error', consequence: 'the daemon cannot mount this layer'};

const deviceSpec: readonly Spec[] = [
	{key: 'device_id', type: 'uint', max: maxDeviceId, maxRejected: true},
	{key: 'size', type: 'uint'},
	{key: 'transaction_id', type: 'uint'},
	{key: 'initialized', type: 'bool'},
	{key: 'deleted', type: 'bool'},
];
const deviceSetSpec: readonly Spec[] = [
	{key: 'next_device_id', type: 'uint', max: maxDeviceId},
	{key: 'BaseDeviceUUID', type: 'string'},
	{key: 'BaseDeviceFilesystem', type: 'string'},
];
const transactionSpec: readonly Spec[] = [
	{key: 'open_transaction_id', type: 'uint'},
	{key: 'device_hash', type: 'string'},
	{key: 'device_id', type: 'uint', max: maxDeviceId},
];

/** A small JSON file (a driver record): missing → no finding (the caller decides); otherwise parsed, or one finding. */
function readSmallJson(
	source: Source,
	path: string,
	subject: string,
	what: string,
	stakes: Stakes,
): {present: boolean; json?: unknown; numbers?: ReadonlyMap<string, string>; findings: Finding[]} {
	const r = readJson(source, path, subject, what, {
		optional: true,
		severity: stakes.severity,
		consequence: stakes.consequence,
		cap: caps.small,
	});
	// A file that is there but bad always gives a finding; a missing one gives none. Numbers kept as
	// text are said field by field (checkFields), not once more as json.big-number.
	const findings = r.findings.filter(f => f.code !== 'json.big-number');
	return {
		present: r.value !== undefined || r.findings.length > 0,
		...(r.value !== undefined ? {json: r.value.json, numbers: r.value.numbers} : {}),
		findings,
	};
}

/** Go's json.Unmarshal into a uint64 / int field accepts a whole number in range; beyond 2^53 JavaScript cannot hold it exactly. */
// 2^64 − 1, as a double: it rounds to 2^64 (the same number the literal 18446744073709551615 gives).
const goMaxUint = 2 ** 64;

/**
 * The fields of a JSON object against a spec: each value kept when its type and range are right,
 * else null, with one finding listing every bad field. Its severity follows what the daemon does:
 * a type Go's json.Unmarshal rejects (or a device id above 24 bits) is `stakes`; a value Go
 * accepts but JavaScript cannot hold exactly (above 2^53), or an absent key (Go leaves it zero), a warning.
 */
function checkFields(
	json: unknown,
	spec: readonly Spec[],
	subject: string,
	path: string,
	what: string,
	stakes: Stakes,
	findings: Finding[],
	/** The exact text of numbers by path (readJson): a whole number beyond 2^53 arrives as its text. */
	numbers?: ReadonlyMap<string, string>,
): Record<string, DriverValue> | undefined {
	const o = obj(json);
	if (o === undefined) {
		findings.push(
			finding(
				stakes.severity,
				'json.shape',
				subject,
				`${what} is ${typeName(json)}, not a JSON object: ${stakes.consequence}`,
				path,
			),
		);
		return undefined;
	}
	const out: Record<string, DriverValue> = {};
	const bad: string[] = [];
	let rejected = false;
	const reject = (why: string): void => {
		bad.push(why);
		rejected = true;
	};
	for (const s of spec) {
		const v = Object.hasOwn(o, s.key) ? o[s.key] : undefined;
		let kept: DriverValue = null;
		if (v === undefined) bad.push(`${s.key} is absent`);
		else if (s.type === 'uint') {
			const text = numbers?.get(pathKey([s.key]));
			if (text !== undefined && typeof v === 'string' && v === text) {
				// A number JavaScript cannot hold: Go's uint64 takes it when it is a whole number in range.
				if (/^[0-9]+$/.test(text) && BigInt(text) <= 18446744073709551615n)
					bad.push(`${s.key} ${text} is beyond 2^53, which cannot be shown exactly`);
				else reject(`${s.key} ${text} is not a whole number from 0 to 2^64-1`);
			} else if (text !== undefined && /[.eE]/.test(text))
				reject(
					`${s.key} ${text} is not a whole number from 0 to 2^64-1 (Go does not read a fraction or an exponent into an integer)`,
				);
			else if (typeof v !== 'number') reject(`${s.key} is ${typeName(v)}, not a number`);
			else if (!Number.isInteger(v) || v < 0 || v > goMaxUint)
				reject(`${s.key} ${String(v)} is not a whole number from 0 to 2^64-1`);
			else if (!Number.isSafeInteger(v))
				bad.push(`${s.key} ${String(v)} is beyond 2^53, which cannot be shown exactly`);
			else if (s.max !== undefined && v > s.max) {
				if (s.maxRejected === true) reject(`${s.key} ${v} is above ${s.max} (device ids are 24 bits)`);
				else bad.push(`${s.key} ${v} is above ${s.max} (device ids are 24 bits)`);
			} else kept = v;
		} else if (s.type === 'string') {
			if (typeof v !== 'string') reject(`${s.key} is ${typeName(v)}, not a string`);
			else if (v.length > maxString) bad.push(`${s.key} is ${v.length} characters long (not kept)`);
			else kept = v;
		} else if (typeof v !== 'boolean') reject(`${s.key} is ${typeName(v)}, not true or false`);
		else kept = v;
		out[s.key] = kept;
	}
	if (bad.length > 0) {
		const severity = rejected ? stakes.severity : 'warning';
		findings.push(
			finding(
				severity,
				'driver.record-invalid',
				subject,
				`${what}: ${bad.join('; ')} (shown as null)${rejected ? `: ${stakes.consequence}` : ''}`,
				path,
			),
		);
	}
	return out;
}

function typeName(v: unknown): string {
	if (v === null) return 'null';
	if (Array.isArray(v)) return 'an array';
	if (typeof v === 'object') return 'an object';
	if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
	return `${typeof v} ${String(v)}`;
}

/** One of the device set's own records under devicemapper/metadata/: what it is, how it is checked, what it means. */
type DeviceSetFile = {
	readonly name: string;
	readonly what: string;
	readonly spec: readonly Spec[];
	readonly stakes: Stakes;
	readonly note: string | undefined;
	/** The note when the file is absent. */
	readonly absent: string;
};

const deviceSetFiles: readonly DeviceSetFile[] = [
	{
		name: 'deviceset-metadata',
		what: 'device set',
		spec: deviceSetSpec,
		stakes: deviceSetStakes,
		note: 'the thin pool is named docker-<major>:<minor>-<inode>-pool after the device and inode of the original devicemapper/ directory, which a copy of the root does not keep',
		absent: 'absent: written at the first daemon start that created the base device (older daemons did not write it)',
	},
	{
		name: 'base',
		what: 'base device',
		spec: deviceSpec,
		stakes: baseStakes,
		note: 'the thin device every image and container device is a snapshot of',
		absent: 'absent: the base device was never created',
	},
	{
		name: 'transaction-metadata',
		what: 'last transaction',
		spec: transactionSpec,
		stakes: transactionStakes,
		note: 'the last device creation or deletion the daemon opened; whether it was committed is in the pool, not in the root',
		absent: 'absent: no device was ever created or deleted (or written by a daemon older than 1.9)',
	},
];

/** `devicemapper/metadata/<id>` for each layer id. */
function readDeviceRecords(source: Source, ids: Iterable<string>, subject: string): Map<string, RawDriverRecord> {
	const records = new Map<string, RawDriverRecord>();
	for (const id of ids) {
		const path = `devicemapper/metadata/${id}`;
		const findings: Finding[] = [];
		const r = readSmallJson(source, path, subject, `device record ${path}`, deviceStakes);
		append(findings, r.findings);
		const fields =
			r.json === undefined
				? undefined
				: checkFields(r.json, deviceSpec, subject, path, `device record ${path}`, deviceStakes, findings, r.numbers);
		records.set(id, fields === undefined ? {findings} : {record: {path, fields}, findings});
	}
	return records;
}

/** One of the device set's own records, added to `host` when absent or readable. */
function readDeviceSetFile(
	source: Source,
	f: DeviceSetFile,
	subject: string,
	host: HostDriverRecord[],
	findings: Finding[],
): void {
	const path = `devicemapper/metadata/${f.name}`;
	const r = readSmallJson(source, path, subject, `${f.what} ${path}`, f.stakes);
	append(findings, r.findings);
	if (!r.present) {
		host.push({driver: 'devicemapper', what: f.what, path, fields: {}, note: f.absent});
		return;
	}
	const fields =
		r.json === undefined
			? undefined
			: checkFields(r.json, f.spec, subject, path, `${f.what} ${path}`, f.stakes, findings, r.numbers);
	if (fields !== undefined)
		host.push({driver: 'devicemapper', what: f.what, path, fields, ...(f.note !== undefined ? {note: f.note} : {})});
}

/** The loop-lvm pool's data or metadata file (devicemapper/devicemapper/<name>): its size, or why there is none. */
function readPoolFile(
	source: Source,
	name: 'data' | 'metadata',
	subject: string,
	host: HostDriverRecord[],
	findings: Finding[],
): void {
	const path = `devicemapper/devicemapper/${name}`;
	const what = name === 'data' ? 'pool data file' : 'pool metadata file';
	const st = source.stat(path);
	if (!st.ok) {
		if (st.error.code === 'missing')
			host.push({
				driver: 'devicemapper',
				what,
				path,
				fields: {},
				note: 'absent: the pool is a block device (dm.thinpooldev or direct-lvm), outside the root',
			});
		else findings.push(sourceErrorFinding(st.error, subject, what, 'warning'));
		return;
	}
	if (st.value.kind !== 'file') {
		findings.push(
			finding(
				'warning',
				'file.not-a-file',
				subject,
				`${what} is a ${st.value.kind}, not the sparse file loop-lvm makes`,
				path,
			),
		);
		return;
	}
	host.push({
		driver: 'devicemapper',
		what,
		path,
		fields: {size: st.value.size},
		note: `a sparse loop-lvm file: its size is what the pool was given (default ${name === 'data' ? '100 GB' : '2 GB'}); the thin devices inside it are not read`,
	});
}

/** `devicemapper/metadata/<id>` for each layer id, and the device set's own records. */
export function readDevicemapperMeta(source: Source, ids: Iterable<string>): DriverMeta {
	const subject = 'store:devicemapper';
	const records = readDeviceRecords(source, ids, subject);
	const host: HostDriverRecord[] = [];
	const findings: Finding[] = [];
	for (const f of deviceSetFiles) readDeviceSetFile(source, f, subject, host, findings);
	for (const name of ['data', 'metadata'] as const) readPoolFile(source, name, subject, host, findings);
	return {records, host, findings};
}

/** `btrfs/quotas/<id>`: the size limit set with `--storage-opt size=`, in bytes. */
export function readBtrfsQuotas(source: Source): DriverMeta {
	const subject = 'store:btrfs';
	const records = new Map<string, RawDriverRecord>();
	const findings: Finding[] = [];
	const listed = source.list('btrfs/quotas');
	if (!listed.ok) {
		if (listed.error.code !== 'missing')
			findings.push(sourceErrorFinding(listed.error, subject, 'btrfs quotas directory', 'warning'));
		return {records, host: [], findings};
	}
	for (const e of listed.value) {
		if (e.kind !== 'file') continue;
		const path = `btrfs/quotas/${e.name}`;
		const f: Finding[] = [];
		const r = source.readFile(path, caps.small);
		if (!r.ok) {
			records.set(e.name, {findings: [sourceErrorFinding(r.error, subject, `quota ${path}`, 'warning')]});
			continue;
		}
		// The daemon writes fmt.Sprint(uint64) and reads it back with strconv.ParseUint(…, 10, 64), ignoring a file it cannot parse.
		const text = r.value.toString('latin1');
		let size: number | null = null;
		const invalid = (why: string) =>
			finding('warning', 'driver.record-invalid', subject, `quota ${path}: ${why}`, path);
		if (!/^[0-9]{1,20}$/.test(text) || Number(text) > goMaxUint)
			f.push(
				invalid(
					`not a decimal number of bytes up to 2^64-1 (${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}): the daemon ignores it and sets no limit`,
				),
			);
		else if (!Number.isSafeInteger(Number(text)))
			f.push(invalid(`${text} bytes is beyond 2^53, which cannot be shown exactly (shown as null)`));
		else size = Number(text);
		records.set(e.name, {record: {path, fields: {size}}, findings: f});
	}
	return {records, host: [], findings};
}

/** The layer id a layerchain.json path names: its last component, with either separator. */
function windowsLayerId(path: string): string {
	const parts = path.split(/[\\/]/).filter(p => p !== '');
	return parts.at(-1) ?? '';
}

/** `windowsfilter/<id>/layerchain.json` for each layer directory. */
export function readWindowsLayerChains(source: Source, ids: Iterable<string>): DriverMeta {
	const subject = 'store:windowsfilter';
	const records = new Map<string, RawDriverRecord>();
	for (const id of ids) {
		const path = `windowsfilter/${id}/layerchain.json`;
		const r = readSmallJson(source, path, subject, `layer chain ${path}`, chainStakes);
		const findings = [...r.findings];
		if (!r.present) {
			// getLayerChain treats a missing file as no parents.
			records.set(id, {
				record: {
					path,
					fields: {paths: null, parentIds: []},
					note: 'absent: the daemon mounts this layer with no layers below it',
				},
				findings,
			});
			continue;
		}
		if (r.json === undefined) {
			records.set(id, {findings});
			continue;
		}
		const list = r.json === null ? [] : r.json;
		if (
			!Array.isArray(list) ||
			!list.every(x => typeof x === 'string' && x.length <= maxString) ||
			list.length > maxChainPaths
		) {
			findings.push(
				finding(
					Array.isArray(list) && list.every(x => typeof x === 'string') ? 'warning' : chainStakes.severity,
					'driver.record-invalid',
					subject,
					`layer chain ${path}: ${typeName(list)}, not null or an array of at most ${maxChainPaths} paths of at most ${maxString} characters${Array.isArray(list) && list.every(x => typeof x === 'string') ? '' : `: ${chainStakes.consequence}`}`,
					path,
				),
			);
			records.set(id, {record: {path, fields: {paths: null, parentIds: null}}, findings});
			continue;
		}
		const paths = list as string[];
		records.set(id, {record: {path, fields: {paths, parentIds: paths.map(windowsLayerId)}}, findings});
	}
	return {records, host: [], findings: []};
}

/** The zfs dataset of a layer: derived, nothing on disk says more. */
export function zfsRecord(id: string): DriverRecord {
	return {
		path: null,
		fields: {dataset: `<fsname>/${id}`},
		note: "fsname is the daemon's zfs.fsname option or the ZFS dataset mounted on the data root; a copy of the root does not record it",
	};
}
