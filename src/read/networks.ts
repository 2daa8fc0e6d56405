import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import {bucketAt} from '../formats/bbolt.ts';
import {bool, obj, str, stringMap} from './json-files.ts';
import {parseJson} from '../formats/json-parse.ts';
import {type Source, byString} from '../sources/source.ts';
import {readBolt} from './volumes.ts';

/**
 * libnetwork's local store, `network/files/local-kv.db` (the reference layout notes §5.2): bbolt, bucket
 * `libnetwork`, keys `docker/network/v1.0/<kind>/<id>[/<id>]/`, each value an 8-byte
 * little-endian modification index followed by JSON (libkv boltdb, `libkvmetadatalen = 8`).
 * Kinds read here: `network/<nid>` (name, networkType, scope, internal, created, labels,
 * ipamV4Info/ipamV6Info: JSON strings of {IPAMData: JSON string {Pool, Gateway}}), `endpoint/<nid>/<eid>`
 * (name, sandbox, ep_iface{addr,mac}), `sandbox/<sid>` (ID, Cid = container id), `bridge/<nid>` (BridgeName).
 * Endpoints and sandboxes are on disk only while containers are connected: a cleanly stopped
 * daemon removes them; a copy of a running (or killed) host keeps them.
 */
export type RawSubnet = {readonly subnet: string; readonly gateway?: string};

export type RawNetwork = {
	readonly id: string;
	readonly name?: string;
	readonly driver?: string;
	readonly scope?: string;
	readonly internal?: boolean;
	readonly attachable?: boolean;
	readonly ipv6?: boolean;
	readonly created?: string;
	readonly labels?: Record<string, string>;
	readonly ipamDriver?: string;
	readonly subnets: RawSubnet[];
	/** The Linux bridge for bridge networks (`bridge/<nid>` BridgeName). */
	readonly bridgeName?: string;
	readonly key: string;
	readonly findings: Finding[];
};

export type RawEndpoint = {
	readonly id: string;
	readonly networkId: string;
	readonly name?: string;
	readonly sandboxId?: string;
	/** From the sandbox's Cid. */
	readonly containerId?: string;
	readonly address?: string;
	readonly mac?: string;
	readonly key: string;
};

export type RawNetworks = {
	readonly present: boolean;
	readonly networks: RawNetwork[];
	readonly endpoints: RawEndpoint[];
	readonly findings: Finding[];
};

const dbPath = 'network/files/local-kv.db';
const prefix = 'docker/network/v1.0/';

/** A libkv value: 8-byte index, then JSON. Tolerates a bare JSON value. */
function kvJson(v: Buffer): Record<string, unknown> | undefined {
	const candidates = v.length > 8 && v[8] === 0x7b ? [v.subarray(8)] : [v];
	for (const c of candidates) {
		// Values nested too deep are not loaded (parseJson); libkv json.Unmarshals the value.
		const parsed = parseJson(c.toString('utf8'));
		return parsed.ok && parsed.value.trailing === 0 ? obj(parsed.value.value) : undefined;
	}
	return undefined;
}

/** ipamV4Info / ipamV6Info: a JSON string of [{IPAMData: "<JSON {Pool, Gateway}>", PoolID}]. */
function subnetsOf(v: unknown): RawSubnet[] | undefined {
	if (typeof v !== 'string') return [];
	let list: unknown;
	try {
		list = JSON.parse(v);
	} catch {
		return undefined;
	}
	if (!Array.isArray(list)) return undefined;
	const out: RawSubnet[] = [];
	for (const item of list) {
		const data = str(obj(item)?.IPAMData);
		if (data === undefined) return undefined;
		let d: Record<string, unknown> | undefined;
		try {
			d = obj(JSON.parse(data));
		} catch {
			return undefined;
		}
		const pool = str(d?.Pool);
		if (pool === undefined) return undefined;
		const gw = str(d?.Gateway);
		out.push({subnet: pool, ...(gw !== undefined && gw !== '' ? {gateway: gw.replace(/\/\d+$/, '')} : {})});
	}
	return out;
}

/** A `network/<nid>` value. */
function networkRecord(id: string, key: string, json: Record<string, unknown>): RawNetwork {
	const f: Finding[] = [];
	const storedId = str(json.id);
	if (storedId !== undefined && storedId !== id)
		f.push(
			finding(
				'error',
				'network.id-mismatch',
				`network:${id}`,
				`local-kv.db: the value says its id is ${storedId}`,
				dbPath,
			),
		);
	const v4 = subnetsOf(json.ipamV4Info);
	const v6 = subnetsOf(json.ipamV6Info);
	if (v4 === undefined || v6 === undefined)
		f.push(
			finding(
				'warning',
				'network.ipam-invalid',
				`network:${id}`,
				'local-kv.db: ipamV4Info/ipamV6Info cannot be decoded',
				dbPath,
			),
		);
	const name = str(json.name);
	const driver = str(json.networkType);
	const scope = str(json.scope);
	const internal = bool(json.internal);
	const attachable = bool(json.attachable);
	const ipv6 = bool(json.enableIPv6);
	const created = str(json.created);
	const labels = stringMap(json.labels);
	const ipamDriver = str(json.ipamType);
	return {
		id,
		...(name !== undefined ? {name} : {}),
		...(driver !== undefined ? {driver} : {}),
		...(scope !== undefined ? {scope} : {}),
		...(internal !== undefined ? {internal} : {}),
		...(attachable !== undefined ? {attachable} : {}),
		...(ipv6 !== undefined ? {ipv6} : {}),
		...(created !== undefined ? {created} : {}),
		...(labels !== undefined ? {labels} : {}),
		...(ipamDriver !== undefined ? {ipamDriver} : {}),
		subnets: [...(v4 ?? []), ...(v6 ?? [])],
		key,
		findings: f,
	};
}

/** An `endpoint/<nid>/<eid>` value (its container joins later, from the sandbox). */
function endpointRecord(
	networkId: string,
	id: string,
	key: string,
	json: Record<string, unknown>,
): Omit<RawEndpoint, 'containerId'> {
	const iface = obj(json.ep_iface);
	const name = str(json.name);
	const sandboxId = str(json.sandbox);
	const address = str(iface?.addr);
	const mac = str(iface?.mac);
	return {
		id,
		networkId,
		...(name !== undefined ? {name} : {}),
		...(sandboxId !== undefined && sandboxId !== '' ? {sandboxId} : {}),
		...(address !== undefined && address !== '' ? {address} : {}),
		...(mac !== undefined && mac !== '' ? {mac} : {}),
		key,
	};
}

export function readNetworks(source: Source): RawNetworks {
	const findings: Finding[] = [];
	const bolt = readBolt(source, dbPath, 'store:network', 'network/files/local-kv.db');
	append(findings, bolt.findings);
	if (bolt.db === undefined) return {present: !bolt.missing, networks: [], endpoints: [], findings};
	const db = bolt.db;
	const at = bucketAt(db, ['libnetwork']);
	for (const e of at.errors)
		findings.push(finding('error', 'db.damaged', 'store:network', `local-kv.db: ${e}`, dbPath));
	if (at.bucket === undefined) return {present: true, networks: [], endpoints: [], findings};
	const read = db.entries(at.bucket);
	for (const e of read.errors)
		findings.push(finding('error', 'db.damaged', 'store:network', `local-kv.db: ${e}`, dbPath));
	const networks: RawNetwork[] = [];
	const bridges = new Map<string, string>();
	const sandboxes = new Map<string, string>();
	const rawEndpoints: Array<Omit<RawEndpoint, 'containerId'>> = [];
	for (const e of read.entries) {
		if (e.value === undefined) continue;
		const key = e.key.toString('utf8');
		if (!key.startsWith(prefix)) continue;
		const parts = key
			.slice(prefix.length)
			.split('/')
			.filter(p => p !== '');
		const kind = parts[0];
		if (kind !== 'network' && kind !== 'endpoint' && kind !== 'sandbox' && kind !== 'bridge') continue;
		const json = kvJson(e.value);
		if (json === undefined) {
			const subject = kind === 'network' && parts[1] !== undefined ? `network:${parts[1]}` : 'store:network';
			findings.push(
				finding('error', 'json.invalid', subject, `local-kv.db: the value of ${key} is not libkv JSON`, dbPath),
			);
			continue;
		}
		if (kind === 'network' && parts.length === 2) networks.push(networkRecord(parts[1]!, key, json));
		else if (kind === 'bridge' && parts.length === 2) {
			const b = str(json.BridgeName);
			if (b !== undefined) bridges.set(parts[1]!, b);
		} else if (kind === 'sandbox' && parts.length === 2) {
			const cid = str(json.Cid);
			if (cid !== undefined) sandboxes.set(parts[1]!, cid);
		} else if (kind === 'endpoint' && parts.length === 3)
			rawEndpoints.push(endpointRecord(parts[1]!, parts[2]!, key, json));
	}
	const withBridges = networks.map(n => (bridges.has(n.id) ? {...n, bridgeName: bridges.get(n.id)!} : n));
	const endpoints = rawEndpoints.map(ep => {
		const cid = ep.sandboxId === undefined ? undefined : sandboxes.get(ep.sandboxId);
		return cid !== undefined ? {...ep, containerId: cid} : ep;
	});
	withBridges.sort((a, b) => byString(a.name ?? '', b.name ?? '') || byString(a.id, b.id));
	endpoints.sort((a, b) => byString(a.networkId, b.networkId) || byString(a.id, b.id));
	return {present: true, networks: withBridges, endpoints, findings};
}
