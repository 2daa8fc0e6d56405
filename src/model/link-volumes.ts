import {append} from '../append.ts';
import {type Finding, finding} from '../finding.ts';
import type {RawContainer} from '../read/container-store.ts';
import {obj, str} from '../read/json-files.ts';
import type {RawEndpoint, RawNetwork, RawNetworks} from '../read/networks.ts';
import {byString} from '../sources/source.ts';
import type {RawVolumes} from '../read/volumes.ts';
import type {Network, NetworkAttachment, Volume, VolumeMount} from './types.ts';

/**
 * Links volumes to the containers that mount them (config.v2.json MountPoints: Type "volume",
 * or, before 1.12, no Type but a Name and a Driver) and networks to the containers attached to
 * them (NetworkSettings.Networks, by NetworkID, else by name) and to libnetwork's endpoints.
 * Pure; broken references become findings.
 */

export function linkVolumes(raw: RawVolumes, containers: readonly RawContainer[], findings: Finding[]): Volume[] {
	append(findings, raw.findings);
	const mounts = new Map<string, VolumeMount[]>();
	const known = new Set(raw.volumes.map(v => v.name));
	for (const c of containers) {
		for (const [dest, mp] of Object.entries(c.mountPoints ?? {})) {
			const m = obj(mp);
			if (m === undefined) continue;
			const type = str(m.Type);
			const name = str(m.Name);
			const driver = str(m.Driver);
			const isVolume =
				type === 'volume' ||
				(type === undefined && name !== undefined && name !== '' && driver !== undefined && driver !== '');
			if (!isVolume || name === undefined || name === '') continue;
			const destination = str(m.Destination) ?? dest;
			const rw = typeof m.RW === 'boolean' ? m.RW : null;
			// A volume mounted but neither in metadata.db nor under volumes/ (seen on the real aufs.v2 tree) is
			// listed below with inDb false and path null, and noted: its data is not in this copy.
			if (!known.has(name)) {
				findings.push(
					finding(
						'info',
						'container.volume-missing',
						`container:${c.id}`,
						`it mounts volume "${name}" at ${destination}, which is neither in volumes/metadata.db nor under volumes/`,
						c.path,
					),
				);
			}
			let list = mounts.get(name);
			if (list === undefined) mounts.set(name, (list = []));
			list.push({containerId: c.id, containerName: c.name ?? null, destination, rw});
		}
	}
	const missing: Volume[] = [...mounts.keys()]
		.filter(n => !known.has(n))
		.sort(byString)
		.map(name => ({
			name,
			driver: null,
			labels: null,
			options: null,
			inDb: false,
			path: null,
			dataPath: null,
			size: null,
			fileCount: null,
			dataModified: null,
			opts: null,
			mounts: mounts.get(name)!,
		}));
	const found = raw.volumes.map(v => {
		append(findings, v.findings);
		const list = (mounts.get(v.name) ?? []).sort(
			(a, b) => byString(a.containerId, b.containerId) || byString(a.destination, b.destination),
		);
		return {
			name: v.name,
			driver: v.driver ?? null,
			labels: v.labels ?? null,
			options: v.options ?? null,
			inDb: v.inDb,
			path: v.hasDir ? `volumes/${v.name}` : null,
			dataPath: v.dataPath ?? null,
			size: v.size ?? null,
			fileCount: v.fileCount ?? null,
			dataModified:
				v.dataMtimeMs !== undefined && Number.isFinite(v.dataMtimeMs)
					? new Date(Math.floor(v.dataMtimeMs)).toISOString()
					: null,
			opts: v.opts ?? null,
			mounts: list,
		};
	});
	return [...found, ...missing].sort((a, b) => byString(a.name, b.name));
}

/** Attachments collected per network id while linking containers and endpoints to networks. */
class NetworkLinks {
	readonly raw: RawNetworks;
	readonly findings: Finding[];
	readonly byId: Map<string, RawNetwork>;
	readonly byName: Map<string, RawNetwork>;
	readonly endpointsById: Map<string, RawEndpoint>;
	readonly usedEndpoints = new Set<string>();
	readonly attached = new Map<string, NetworkAttachment[]>();

	constructor(raw: RawNetworks, findings: Finding[]) {
		this.raw = raw;
		this.findings = findings;
		this.byId = new Map(raw.networks.map(n => [n.id, n]));
		this.byName = new Map(raw.networks.filter(n => n.name !== undefined).map(n => [n.name!, n]));
		this.endpointsById = new Map(raw.endpoints.map(e => [e.id, e]));
	}

	add(nid: string, a: NetworkAttachment): void {
		let l = this.attached.get(nid);
		if (l === undefined) this.attached.set(nid, (l = []));
		l.push(a);
	}
}

/** Attaches a container to one network its config names (NetworkSettings.Networks), or says the network is missing. */
function attachContainer(links: NetworkLinks, c: RawContainer, netName: string, settings: unknown): void {
	const s = obj(settings);
	if (s === undefined) return;
	const nid = str(s.NetworkID);
	const net = (nid !== undefined && nid !== '' ? links.byId.get(nid) : undefined) ?? links.byName.get(netName);
	if (net === undefined) {
		// "none", "host" and "bridge" with --bridge none have no record of their own in some versions; only report what names an id.
		if (nid !== undefined && nid !== '' && links.raw.present) {
			links.findings.push(
				finding(
					'warning',
					'container.network-missing',
					`container:${c.id}`,
					`its config attaches it to network "${netName}" (${nid}), which local-kv.db does not hold`,
					c.path,
				),
			);
		}
		return;
	}
	const eid = str(s.EndpointID);
	const ep = eid !== undefined && eid !== '' ? links.endpointsById.get(eid) : undefined;
	if (ep !== undefined) links.usedEndpoints.add(ep.id);
	const ip = str(s.IPAddress);
	const mac = str(s.MacAddress);
	links.add(net.id, {
		containerId: c.id,
		containerName: c.name ?? null,
		endpointId: eid !== undefined && eid !== '' ? eid : null,
		endpointName: ep?.name ?? null,
		ipAddress: ip !== undefined && ip !== '' ? ip : (ep?.address?.replace(/\/\d+$/, '') ?? null),
		macAddress: mac !== undefined && mac !== '' ? mac : (ep?.mac ?? null),
		source: ep !== undefined ? 'both' : 'config',
	});
}

/** Attaches the endpoints no container's config named, or says their network is missing. */
function attachLoneEndpoints(links: NetworkLinks, containers: readonly RawContainer[]): void {
	const cname = new Map(containers.map(c => [c.id, c.name ?? null]));
	for (const ep of links.raw.endpoints) {
		if (links.usedEndpoints.has(ep.id)) continue;
		if (!links.byId.has(ep.networkId)) {
			links.findings.push(
				finding(
					'warning',
					'network.endpoint-orphan',
					'store:network',
					`endpoint ${ep.id} belongs to network ${ep.networkId}, which is not in local-kv.db`,
					'network/files/local-kv.db',
				),
			);
			continue;
		}
		links.add(ep.networkId, {
			containerId: ep.containerId ?? null,
			containerName: ep.containerId !== undefined ? (cname.get(ep.containerId) ?? null) : null,
			endpointId: ep.id,
			endpointName: ep.name ?? null,
			ipAddress: ep.address?.replace(/\/\d+$/, '') ?? null,
			macAddress: ep.mac ?? null,
			source: 'endpoint',
		});
	}
}

function networkOf(n: RawNetwork, attachments: NetworkAttachment[]): Network {
	return {
		id: n.id,
		name: n.name ?? null,
		driver: n.driver ?? null,
		scope: n.scope ?? null,
		internal: n.internal ?? null,
		attachable: n.attachable ?? null,
		ipv6: n.ipv6 ?? null,
		created: n.created ?? null,
		labels: n.labels ?? null,
		ipamDriver: n.ipamDriver ?? null,
		subnets: n.subnets.map(s => ({subnet: s.subnet, gateway: s.gateway ?? null})),
		bridgeName: n.bridgeName ?? null,
		containers: attachments.sort(
			(a, b) => byString(a.containerId ?? '', b.containerId ?? '') || byString(a.endpointId ?? '', b.endpointId ?? ''),
		),
	};
}

export function linkNetworks(raw: RawNetworks, containers: readonly RawContainer[], findings: Finding[]): Network[] {
	append(findings, raw.findings);
	const links = new NetworkLinks(raw, findings);
	for (const c of containers) {
		for (const [netName, settings] of Object.entries(c.networks ?? {})) attachContainer(links, c, netName, settings);
	}
	attachLoneEndpoints(links, containers);
	return raw.networks.map(n => {
		append(findings, n.findings);
		return networkOf(n, links.attached.get(n.id) ?? []);
	});
}
