// A containerd image store built in code (the reference layout notes §6; containerd core/metadata/{buckets.go,
// images.go,snapshot.go}, core/snapshots/storage/bolt.go; moby daemon/containerd): meta.db and the
// snapshotter's metadata.db written with the test bbolt writer, content blobs, snapshot directories
// and containers/<id>/config.v2.json, for the cases a real dockerd does not make (indexes with several
// platforms, odd names, leftovers, damage).
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {type WBucket, type WValue, wb, writeBolt} from './bbolt-writer.ts';

export const C8D = 'containerd/daemon';
export const META_DB = `${C8D}/io.containerd.metadata.v1.bolt/meta.db`;
export const BLOBS = `${C8D}/io.containerd.content.v1.content/blobs/sha256`;
export const snapshotterDir = (sn: string): string => `${C8D}/io.containerd.snapshotter.v1.${sn}`;

/** encoding/binary PutUvarint. */
export function uvarintBytes(n: number): Buffer {
	const out: number[] = [];
	let v = BigInt(n);
	while (v >= 0x80n) {
		out.push(Number((v & 0x7fn) | 0x80n));
		v >>= 7n;
	}
	out.push(Number(v));
	return Buffer.from(out);
}

/** encoding/binary PutVarint (zigzag). */
export function varintBytes(n: number): Buffer {
	const v = BigInt(n);
	return uvarintBytes(Number(v >= 0n ? v << 1n : (-v << 1n) - 1n));
}

/** Go time.MarshalBinary, version 1, UTC. */
export function goTimeBytes(iso: string): Buffer {
	const m = /^(.*?)(?:\.(\d{1,9}))?Z$/.exec(iso)!;
	const ms = Date.parse(`${m[1]}Z`);
	const b = Buffer.alloc(15);
	b[0] = 1;
	b.writeBigInt64BE(BigInt(Math.floor(ms / 1000)) + 62135596800n, 1);
	b.writeInt32BE(Number((m[2] ?? '').padEnd(9, '0')), 9);
	b.writeInt16BE(-1, 13);
	return b;
}

export const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export function chainOf(diffIds: readonly string[]): string[] {
	const out: string[] = [];
	let prev: string | undefined;
	for (const d of diffIds) {
		prev = prev === undefined ? d : sha(`${prev} ${d}`);
		out.push(prev);
	}
	return out;
}

export type C8dSnapshot = {
	key: string;
	parent?: string;
	/** Directory id; omitted: no record in the snapshotter's metadata.db. */
	id?: number;
	kind?: 1 | 2 | 3;
	size?: number;
	/** Make snapshots/<id>/fs (default true when id is set). */
	dir?: boolean;
};

export type C8dImage = {
	name: string;
	target: string;
	mediaType?: string;
	size?: number;
	labels?: Record<string, string>;
	updated?: string;
};

export class C8dRoot {
	readonly dir: string;
	readonly images: C8dImage[] = [];
	readonly snapshots: Record<string, C8dSnapshot[]> = {};
	/** Records of the snapshotter's metadata.db that meta.db does not name (backend key → id). */
	readonly extraBackend: Record<string, Array<{key: string; id: number; kind: number}>> = {};
	constructor() {
		this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-c8d-'));
		fs.mkdirSync(this.p('containers'), {recursive: true});
		fs.mkdirSync(this.p(BLOBS), {recursive: true});
	}

	p(rel: string): string {
		return path.join(this.dir, rel);
	}

	write(rel: string, content: string | Buffer): void {
		fs.mkdirSync(path.dirname(this.p(rel)), {recursive: true});
		fs.writeFileSync(this.p(rel), content);
	}

	/** Stores a blob; returns its descriptor. */
	blob(
		content: unknown,
		mediaType = 'application/vnd.oci.image.manifest.v1+json',
	): {digest: string; size: number; mediaType: string} {
		const bytes = Buffer.isBuffer(content)
			? content
			: Buffer.from(typeof content === 'string' ? content : JSON.stringify(content));
		const digest = sha(bytes);
		this.write(`${BLOBS}/${digest.slice(7)}`, bytes);
		return {digest, size: bytes.length, mediaType};
	}

	/** An image config + manifest (and the layers as empty blobs); returns the manifest descriptor, the config digest and the chain ids. */
	image(
		diffIds: string[],
		opts: {created?: string; arch?: string; os?: string; history?: unknown[]; config?: unknown} = {},
	) {
		const config = this.blob(
			{
				created: opts.created ?? '2026-01-02T03:04:05.123456789Z',
				architecture: opts.arch ?? 'amd64',
				os: opts.os ?? 'linux',
				rootfs: {type: 'layers', diff_ids: diffIds},
				history: opts.history ?? diffIds.map(() => ({created_by: 'RUN x'})),
				config: opts.config ?? {Cmd: ['sh']},
			},
			'application/vnd.oci.image.config.v1+json',
		);
		const layers = diffIds.map((d, i) => ({
			mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
			digest: sha(`layer ${d} ${i}`),
			size: 100 + i,
		}));
		const manifest = this.blob({
			schemaVersion: 2,
			mediaType: 'application/vnd.oci.image.manifest.v1+json',
			config: {mediaType: config.mediaType, digest: config.digest, size: config.size},
			layers,
		});
		return {manifest, config, chain: chainOf(diffIds), layers};
	}

	tag(
		name: string,
		target: {digest: string; size: number; mediaType: string},
		labels: Record<string, string> = {},
		updated = '2026-01-02T03:04:06.5Z',
	): void {
		this.images.push({name, target: target.digest, mediaType: target.mediaType, size: target.size, labels, updated});
	}

	snapshot(sn: string, s: C8dSnapshot): void {
		(this.snapshots[sn] ??= []).push(s);
		if (s.id !== undefined && s.dir !== false)
			fs.mkdirSync(
				this.p(
					sn === 'native' ? `${snapshotterDir(sn)}/snapshots/${s.id}` : `${snapshotterDir(sn)}/snapshots/${s.id}/fs`,
				),
				{recursive: true},
			);
	}

	container(
		id: string,
		name: string,
		image: string,
		opts: {driver?: string; manifest?: string; running?: boolean} = {},
	): void {
		this.write(
			`containers/${id}/config.v2.json`,
			JSON.stringify({
				ID: id,
				Name: `/${name}`,
				Image: image,
				Driver: opts.driver ?? 'overlayfs',
				Created: '2026-01-02T03:04:07Z',
				State: {Running: opts.running ?? false, StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z'},
				Config: {Image: name, Cmd: ['sh']},
				...(opts.manifest !== undefined
					? {ImageManifest: {mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: opts.manifest, size: 1}}
					: {}),
			}),
		);
		// dockerd writes hostconfig.json beside config.v2.json at create; a container without it is damage (container.hostconfig-missing).
		this.write(
			`containers/${id}/hostconfig.json`,
			JSON.stringify({NetworkMode: 'default', LogConfig: {Type: 'json-file', Config: {}}}),
		);
	}

	/** Writes meta.db and each snapshotter's metadata.db (skip: snapshotters whose metadata.db is left out). */
	save(opts: {skipSnapshotterDb?: string[]; namespace?: string} = {}): void {
		const t = goTimeBytes('2026-01-02T03:04:05Z');
		const images: Array<[string, WValue]> = this.images.map(i => [
			i.name,
			wb({
				createdat: t,
				updatedat: goTimeBytes(i.updated ?? '2026-01-02T03:04:05Z'),
				target: wb({
					digest: i.target,
					mediatype: i.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
					size: varintBytes(i.size ?? 0),
				}),
				...(i.labels !== undefined && Object.keys(i.labels).length > 0 ? {labels: wb(i.labels)} : {}),
			}),
		]);
		const snapshots: Record<string, WBucket> = {};
		for (const [sn, list] of Object.entries(this.snapshots)) {
			snapshots[sn] = wb(
				list.map(
					s =>
						[
							s.key,
							wb({
								name: `moby/${s.id ?? 999999}/${s.key}`,
								createdat: t,
								updatedat: t,
								...(s.parent !== undefined ? {parent: s.parent} : {}),
							}),
						] as [string, WValue],
				),
			);
			if (opts.skipSnapshotterDb?.includes(sn)) continue;
			const byKey = new Map(list.map(s => [s.key, s]));
			const backend: Array<[string, WValue]> = [];
			for (const s of list) {
				if (s.id === undefined) continue;
				const parent = s.parent === undefined ? undefined : byKey.get(s.parent);
				backend.push([
					`moby/${s.id}/${s.key}`,
					wb({
						id: uvarintBytes(s.id),
						kind: Buffer.from([s.kind ?? 3]),
						createdat: t,
						updatedat: t,
						...(parent !== undefined ? {parent: `moby/${parent.id ?? 999999}/${parent.key}`} : {}),
						...((s.kind ?? 3) === 3 ? {size: varintBytes(s.size ?? 4096), inodes: varintBytes(3)} : {}),
					}),
				]);
			}
			for (const e of this.extraBackend[sn] ?? [])
				backend.push([e.key, wb({id: uvarintBytes(e.id), kind: Buffer.from([e.kind]), createdat: t})]);
			this.write(
				`${snapshotterDir(sn)}/metadata.db`,
				writeBolt(wb({v1: wb({snapshots: wb(backend), parents: wb({})})})),
			);
		}
		const ns = opts.namespace ?? 'moby';
		this.write(
			META_DB,
			writeBolt(
				wb({
					v1: wb({
						version: Buffer.from([6]),
						[ns]: wb({images: wb(images), snapshots: wb(snapshots), containers: wb({}), content: wb({blob: wb({})})}),
					}),
				}),
			),
		);
	}

	remove(): void {
		fs.rmSync(this.dir, {recursive: true, force: true});
	}
}

export const hexOf = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A root with one two-layer image, tags in several forms, a dangling child image and one container. */
export function basicC8dRoot() {
	const r = new C8dRoot();
	const diffs = [sha('d0'), sha('d1')];
	const base = r.image(diffs, {created: '2026-01-02T03:04:05.123456789Z'});
	r.tag('docker.io/library/busybox:latest', base.manifest, {}, '2026-01-02T03:04:06.25Z');
	r.tag('ghcr.io/acme/tool:2', base.manifest, {}, '2026-01-03T00:00:00Z');
	r.tag(`docker.io/library/busybox@${base.manifest.digest}`, base.manifest);
	const child = r.image([...diffs, sha('d2')], {created: '2026-01-04T00:00:00Z'});
	r.tag(`moby-dangling@${child.manifest.digest}`, child.manifest, {
		'org.mobyproject.image.parent': base.manifest.digest,
	});
	r.snapshot('overlayfs', {key: base.chain[0]!, id: 1, size: 1000});
	r.snapshot('overlayfs', {key: base.chain[1]!, parent: base.chain[0]!, id: 2, size: 200});
	// A layer committed on a build container's init snapshot (dockerd 26's classic builder does this).
	const builder = hexOf('builder');
	r.snapshot('overlayfs', {key: `${builder}-init`, parent: base.chain[1]!, id: 5, size: 30});
	r.snapshot('overlayfs', {key: child.chain[2]!, parent: `${builder}-init`, id: 6, size: 40});
	const ctr = hexOf('ctr');
	r.snapshot('overlayfs', {key: `${ctr}-init`, parent: base.chain[1]!, id: 3, size: 10});
	r.snapshot('overlayfs', {key: ctr, parent: `${ctr}-init`, id: 4, kind: 2});
	r.container(ctr, 'web', base.manifest.digest, {manifest: base.manifest.digest});
	return {r, base, child, ctr, builder};
}
