import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import {type Bolt, bucketAt, openBolt} from '../formats/bbolt.ts';
import {entryFindings, obj, readJson, sourceErrorFinding, str, stringMap} from './json-files.ts';
import {parseJson} from '../formats/json-parse.ts';
import {type Source, byString} from '../sources/source.ts';

/**
 * Volumes (the reference layout notes §5.1; moby@v20.10.24 volume/service/db.go, volume/local/local.go):
 * `volumes/metadata.db` (bbolt, 1.11+) has one bucket `volumes`: volume name → JSON
 * {Name, Driver, Labels, Options}; a `local` volume's data is `volumes/<name>/_data`, and
 * `volumes/<name>/opts.json` holds the mount options given with `-o`. Before 1.11 there is no
 * database: every directory under `volumes/` is a local volume.
 */
export type RawVolume = {
	readonly name: string;
	/** Listed in metadata.db. */
	readonly inDb: boolean;
	readonly driver?: string;
	readonly labels?: Record<string, string>;
	readonly options?: Record<string, string>;
	/** `volumes/<name>` exists as a directory. */
	readonly hasDir: boolean;
	/** `volumes/<name>/_data`, relative to the root, when it is a directory. */
	readonly dataPath?: string;
	/** Bytes of the regular files under `_data` (apparent size); undefined when not walked completely. */
	readonly size?: number;
	readonly fileCount?: number;
	/** `volumes/<name>/_data` modification time (what `docker volume inspect` shows as CreatedAt for local volumes). */
	readonly dataMtimeMs?: number;
	/** opts.json as stored. */
	readonly opts?: Record<string, unknown>;
	readonly findings: Finding[];
};

export type RawVolumes = {
	/** `volumes/` exists. */
	readonly present: boolean;
	/** metadata.db exists and was read. */
	readonly hasDb: boolean;
	readonly volumes: RawVolume[];
	readonly findings: Finding[];
};

/** Largest bbolt file read into memory. */
const maxDbBytes = 64 * 1024 * 1024;
/** Most entries walked under one volume's _data to size it. */
const maxWalk = 100_000;
/** Docker's volume name rule (volume/local/local.go validName), which also keeps the name one path component. */
const validName = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Opens a bbolt file from the source; findings on `subject` when it cannot be read. */
export function readBolt(
	source: Source,
	rel: string,
	subject: string,
	what: string,
): {db?: Bolt; findings: Finding[]; missing: boolean} {
	const r = source.readFile(rel, maxDbBytes);
	if (!r.ok) {
		if (r.error.code === 'missing') return {findings: [], missing: true};
		return {findings: [sourceErrorFinding(r.error, subject, what)], missing: false};
	}
	const o = openBolt(r.value);
	if (!o.ok) return {findings: [finding('error', 'db.invalid', subject, `${what}: ${o.error}`, rel)], missing: false};
	// A meta page without a checksum is how boltdb before v1.2.1 (Docker ≤ 1.11) wrote them: not a problem.
	const findings = o.db.warnings
		.filter(w => !/has no checksum/.test(w))
		.map(w => finding('warning', 'db.meta', subject, `${what}: ${w}`, rel));
	return {db: o.db, findings, missing: false};
}

/** Sizes a directory tree through the source (no symlink followed), bounded. */
function walkSize(source: Source, dir: string): {size?: number; files?: number; error?: string} {
	let size = 0;
	let files = 0;
	let seen = 0;
	const stack = [dir];
	while (stack.length > 0) {
		const d = stack.pop()!;
		const listed = source.list(d);
		if (!listed.ok) return {error: listed.error.message};
		for (const e of listed.value) {
			if (++seen > maxWalk) return {error: `more than ${maxWalk} entries; not sized`};
			const p = `${d}/${e.name}`;
			if (e.kind === 'dir') stack.push(p);
			else if (e.kind === 'file') {
				const st = source.stat(p);
				if (st.ok) size += st.value.size;
				files++;
			}
		}
	}
	return {size, files};
}

/** What volumes/metadata.db says of one volume (or, for a directory it does not list, what is known without it). */
type DbVolume = {
	inDb: boolean;
	driver?: string;
	labels?: Record<string, string>;
	options?: Record<string, string>;
	findings: Finding[];
};

const dbPath = 'volumes/metadata.db';

/** One entry of the `volumes` bucket: the JSON {Name, Driver, Labels, Options} under the volume's name. */
function dbVolume(name: string, value: Buffer | undefined): DbVolume {
	const f: Finding[] = [];
	const subject = `volume:${name}`;
	if (value === undefined) {
		f.push(
			finding('error', 'db.shape', subject, 'volumes/metadata.db: the entry is a bucket, not a JSON value', dbPath),
		);
		return {inDb: true, findings: f};
	}
	const parsed = parseJson(value.toString('utf8'));
	const json = parsed.ok && parsed.value.trailing === 0 ? obj(parsed.value.value) : undefined;
	if (json === undefined) {
		f.push(finding('error', 'json.invalid', subject, 'volumes/metadata.db: the value is not a JSON object', dbPath));
		return {inDb: true, findings: f};
	}
	const stored = str(json.Name);
	if (stored !== undefined && stored !== name)
		f.push(
			finding('error', 'volume.name-mismatch', subject, `volumes/metadata.db: the value names "${stored}"`, dbPath),
		);
	const driver = str(json.Driver);
	const labels = stringMap(json.Labels);
	const options = stringMap(json.Options);
	return {
		inDb: true,
		...(driver !== undefined ? {driver} : {}),
		...(labels !== undefined ? {labels} : {}),
		...(options !== undefined ? {options} : {}),
		findings: f,
	};
}

/** The volumes metadata.db lists, by name; damage and a missing bucket are findings. */
function readVolumeDb(db: Bolt, byName: Map<string, DbVolume>, findings: Finding[]): void {
	const at = bucketAt(db, ['volumes']);
	for (const e of at.errors)
		findings.push(finding('error', 'db.damaged', 'store:volumes', `volumes/metadata.db: ${e}`, dbPath));
	if (at.bucket === undefined) {
		if (at.errors.length === 0)
			findings.push(
				finding('warning', 'db.shape', 'store:volumes', 'volumes/metadata.db has no "volumes" bucket', dbPath),
			);
		return;
	}
	const read = db.entries(at.bucket);
	for (const e of read.errors)
		findings.push(finding('error', 'db.damaged', 'store:volumes', `volumes/metadata.db: ${e}`, dbPath));
	for (const e of read.entries) {
		const name = e.key.toString('utf8');
		byName.set(name, dbVolume(name, e.value));
	}
}

/** The directories under volumes/ that the database does not list join `byName`; what is no directory is a stray. */
function volumeDirs(
	dirs: ReadonlyMap<string, string>,
	byName: Map<string, DbVolume>,
	db: {readonly read: boolean; readonly missing: boolean},
	findings: Finding[],
): void {
	const strays = entryFindings(findings, 'store:volumes', 'volumes');
	for (const [name, kind] of dirs) {
		if (name === 'metadata.db' || name === 'backingFsBlockDev') continue;
		if (kind !== 'dir') {
			if (kind === 'symlink')
				strays.add(
					finding(
						'warning',
						'file.symlink',
						'store:volumes',
						`volumes/${name} is a symlink; not followed`,
						`volumes/${name}`,
					),
				);
			else
				strays.add(
					finding(
						'warning',
						'entry.unexpected',
						'store:volumes',
						`unexpected ${kind} "${name}" in volumes/`,
						`volumes/${name}`,
					),
				);
			continue;
		}
		if (!byName.has(name)) {
			const f: Finding[] = [];
			if (db.read)
				f.push(
					finding(
						'warning',
						'volume.not-in-db',
						`volume:${name}`,
						'a volume directory that volumes/metadata.db does not list (docker volume ls does not show it)',
						`volumes/${name}`,
					),
				);
			byName.set(name, {inDb: false, ...(db.missing ? {driver: 'local'} : {}), findings: f});
		}
	}
	strays.done();
}

/** One volume: what the database says, its directory, its _data (sized) and its opts.json. */
function readVolume(source: Source, name: string, v: DbVolume, dirs: ReadonlyMap<string, string>): RawVolume {
	const subject = `volume:${name}`;
	const f = [...v.findings];
	const base = {
		name,
		inDb: v.inDb,
		...(v.driver !== undefined ? {driver: v.driver} : {}),
		...(v.labels !== undefined ? {labels: v.labels} : {}),
		...(v.options !== undefined ? {options: v.options} : {}),
	};
	if (!validName.test(name)) {
		f.push(
			finding(
				'error',
				'volume.name-invalid',
				subject,
				'the volume name is not a valid single path component; its directory is not looked at',
			),
		);
		return {...base, hasDir: false, findings: f};
	}
	const hasDir = dirs.get(name) === 'dir';
	const local = v.driver === undefined || v.driver === 'local';
	if (!hasDir) {
		if (local)
			f.push(
				finding(
					'error',
					'volume.dir-missing',
					subject,
					`local volume without its directory volumes/${name}`,
					`volumes/${name}`,
				),
			);
		return {...base, hasDir, findings: f};
	}
	const dataRel = `volumes/${name}/_data`;
	const st = source.stat(dataRel);
	let extra: Partial<RawVolume> = {};
	if (st.ok && st.value.kind === 'dir') {
		const w = walkSize(source, dataRel);
		if (w.error !== undefined)
			f.push(finding('info', 'volume.size-unknown', subject, `_data not sized: ${w.error}`, dataRel));
		extra = {
			dataPath: dataRel,
			dataMtimeMs: st.value.mtimeMs,
			...(w.size !== undefined ? {size: w.size, fileCount: w.files!} : {}),
		};
	} else if (st.ok) {
		f.push(
			finding(
				'error',
				st.value.kind === 'symlink' ? 'file.symlink' : 'file.not-a-dir',
				subject,
				`${dataRel} is a ${st.value.kind}, not a directory`,
				dataRel,
			),
		);
	} else if (local) {
		f.push(sourceErrorFinding(st.error, subject, 'volume data directory'));
	}
	const opts = readJson(source, `volumes/${name}/opts.json`, subject, 'volume opts.json', {optional: true});
	append(f, opts.findings);
	const optsObj = opts.value !== undefined ? obj(opts.value.json) : undefined;
	if (opts.value !== undefined && optsObj === undefined)
		f.push(finding('error', 'json.shape', subject, 'opts.json is not a JSON object', `volumes/${name}/opts.json`));
	return {...base, hasDir, ...extra, ...(optsObj !== undefined ? {opts: optsObj} : {}), findings: f};
}

export function readVolumes(source: Source): RawVolumes {
	const findings: Finding[] = [];
	const listed = source.list('volumes');
	if (!listed.ok) {
		if (listed.error.code !== 'missing') findings.push(sourceErrorFinding(listed.error, 'root', 'volumes directory'));
		return {present: false, hasDb: false, volumes: [], findings};
	}
	const dirs = new Map(listed.value.map(e => [e.name, e.kind]));
	const byName = new Map<string, DbVolume>();
	const bolt = readBolt(source, dbPath, 'store:volumes', 'volumes/metadata.db');
	append(findings, bolt.findings);
	if (bolt.db !== undefined) readVolumeDb(bolt.db, byName, findings);
	volumeDirs(dirs, byName, {read: bolt.db !== undefined, missing: bolt.missing}, findings);
	const volumes: RawVolume[] = [];
	for (const [name, v] of [...byName].sort((a, b) => byString(a[0], b[0])))
		volumes.push(readVolume(source, name, v, dirs));
	return {present: true, hasDb: bolt.db !== undefined, volumes, findings};
}
