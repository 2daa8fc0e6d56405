import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {gzipSync} from 'node:zlib';
import {Crc64} from '../../src/checks/crc64.ts';
import {entryHeader, padding, trailer} from '../../src/files/tar-writer.ts';
import {hex} from './fake-root.ts';

/**
 * A graph/<id>/tar-data.json.gz as 1.9's tar-split disassembler wrote it for a layer tar of one
 * file (vbatts/tar-split tar/storage/entry.go): raw bytes as segments, the file's content as its
 * name, size and CRC-64/ISO.
 */
export function tarDataRecord(name: string, content: Buffer, mtimeMs = Date.UTC(2015, 10, 20, 10)): Buffer {
	const header = entryHeader({name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeMs, size: content.length});
	const crc = new Crc64();
	crc.update(content);
	const lines = [
		{type: 2, payload: header.toString('base64'), position: 0},
		{
			type: 1,
			name,
			...(content.length > 0 ? {size: content.length} : {}),
			payload: content.length > 0 ? crc.digest().toString('base64') : null,
			position: 1,
		},
		{
			type: 2,
			payload: Buffer.concat([Buffer.alloc(padding(content.length)), trailer()]).toString('base64'),
			position: 2,
		},
	];
	return gzipSync(`${lines.map(l => JSON.stringify(l)).join('\n')}\n`);
}

/**
 * A Docker 1.9 root with the aufs driver, built to the reference layout notes §2 (sources: moby@v1.9.1
 * graph/graph.go — graph/<id>/{json,layersize,checksum,tar-data.json.gz}, image id = layer id =
 * random hex64; graph/tags.go — repositories-<driver>, bare tags and `sha256:` digest keys, bare
 * hex values; daemon/daemon.go + daemon/container.go — containers/<id>/config.json, the RW layer
 * is the driver directory named by the container id, its init layer `<id>-init`) and §3.1 for
 * aufs (aufs/diff/<id>, aufs/layers/<id> listing the ancestors nearest first, aufs/mnt/<id>).
 */
export const v1 = {
	base: hex('v1-base'),
	app: hex('v1-app'),
	/** An image whose parent link points to a graph entry that is gone. */
	broken: hex('v1-broken'),
	gone: hex('v1-gone-parent'),
	digest: `sha256:${hex('v1-busybox-manifest')}`,
	created: hex('v1-c-created'),
	running: hex('v1-c-running'),
	exited: hex('v1-c-exited'),
	orphan: hex('v1-c-image-gone'),
	goneImage: hex('v1-image-gone'),
	garbage: hex('v1-c-garbage'),
} as const;

const zero = '0001-01-01T00:00:00Z';

export class V1Root {
	readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-v1-'));

	p(rel: string): string {
		return path.join(this.dir, rel);
	}

	write(rel: string, content: string | Buffer): void {
		fs.mkdirSync(path.dirname(this.p(rel)), {recursive: true});
		fs.writeFileSync(this.p(rel), content);
	}

	/** graph/<id>/ as graph.go's storeImage writes it, and the aufs layer directories. */
	image(id: string, parent: string | undefined, ancestors: string[], cmd: string, size: number): void {
		const json = {
			id,
			...(parent !== undefined ? {parent} : {}),
			created: '2015-11-20T10:00:00.000000000Z',
			container: hex(`${id}-builder`),
			container_config: {Hostname: 'b', Cmd: ['/bin/sh', '-c', cmd], Image: parent ?? ''},
			docker_version: '1.9.1',
			config: {
				Hostname: 'b',
				Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
				Cmd: ['sh'],
				Image: parent ?? '',
			},
			architecture: 'amd64',
			os: 'linux',
			Size: size,
		};
		this.write(`graph/${id}/json`, JSON.stringify(json));
		this.write(`graph/${id}/layersize`, String(size));
		this.write(`graph/${id}/checksum`, `sha256:${hex(`${id}-blob`)}`);
		fs.mkdirSync(this.p(`aufs/mnt/${id}`), {recursive: true});
		// layersize is what the driver's ApplyDiff returned: the bytes of the layer's files.
		const content = Buffer.alloc(size, 0x61);
		if (size > 0) this.write(`aufs/diff/${id}/f-${id.slice(0, 6)}`, content);
		else fs.mkdirSync(this.p(`aufs/diff/${id}`), {recursive: true});
		this.write(
			`graph/${id}/tar-data.json.gz`,
			size > 0
				? tarDataRecord(`f-${id.slice(0, 6)}`, content)
				: gzipSync(`{"type":2,"payload":"${trailer().toString('base64')}","position":0}\n`),
		);
		this.write(`aufs/layers/${id}`, ancestors.map(a => `${a}\n`).join(''));
	}

	/** containers/<id>/config.json (+ hostconfig.json), aufs/diff/<id> and <id>-init, aufs/layers for both. */
	container(
		id: string,
		name: string,
		image: string,
		imageRef: string,
		ancestors: string[],
		state: Record<string, unknown>,
		created: string,
	): void {
		const config = {
			State: {
				Running: false,
				Paused: false,
				Restarting: false,
				OOMKilled: false,
				Dead: false,
				Pid: 0,
				ExitCode: 0,
				Error: '',
				StartedAt: zero,
				FinishedAt: zero,
				...state,
			},
			ID: id,
			Created: created,
			Path: 'sh',
			Args: ['-c', 'sleep 1000'],
			Config: {Hostname: id.slice(0, 12), Env: ['PATH=/bin'], Cmd: ['sh', '-c', 'sleep 1000'], Image: imageRef},
			Image: image,
			NetworkSettings: {Bridge: '', IPAddress: '', Ports: null},
			ResolvConfPath: `/var/lib/docker/containers/${id}/resolv.conf`,
			Name: `/${name}`,
			RestartCount: 0,
			Driver: 'aufs',
			ExecDriver: 'native-0.2',
			MountLabel: '',
			ProcessLabel: '',
			AppArmorProfile: '',
			UpdateDns: false,
			MountPoints: {},
			Volumes: {},
			VolumesRW: {},
		};
		this.write(`containers/${id}/config.json`, JSON.stringify(config));
		this.write(
			`containers/${id}/hostconfig.json`,
			JSON.stringify({Binds: null, NetworkMode: 'default', RestartPolicy: {Name: 'no', MaximumRetryCount: 0}}),
		);
		for (const d of [id, `${id}-init`]) {
			fs.mkdirSync(this.p(`aufs/diff/${d}`), {recursive: true});
			fs.mkdirSync(this.p(`aufs/mnt/${d}`), {recursive: true});
		}
		this.write(`aufs/layers/${id}-init`, ancestors.map(a => `${a}\n`).join(''));
		this.write(`aufs/layers/${id}`, [`${id}-init`, ...ancestors].map(a => `${a}\n`).join(''));
	}

	remove(): void {
		fs.rmSync(this.dir, {recursive: true, force: true});
	}
}

/** The whole 1.9 root the tests use. */
export function buildV1Root(): V1Root {
	const r = new V1Root();
	const {base, app, broken, gone} = v1;
	r.image(base, undefined, [], '#(nop) ADD file:abc in /', 4096);
	r.image(app, base, [base], 'echo hello > /hello', 12);
	// Its parent's graph entry (and aufs directory) were removed by hand: the link is broken.
	r.image(broken, gone, [gone, base], 'touch /x', 0);
	r.write(
		'repositories-aufs',
		JSON.stringify({Repositories: {busybox: {latest: base, [v1.digest]: base}, app: {'1.0': app, latest: app}}}),
	);
	r.container(v1.created, 'just_created', app, 'app:1.0', [app, base], {}, '2015-11-20T11:00:00.000000000Z');
	r.container(
		v1.running,
		'web',
		base,
		'busybox',
		[base],
		{Running: true, Pid: 4242, StartedAt: '2015-11-20T11:01:00.000000000Z'},
		'2015-11-20T11:01:00.000000000Z',
	);
	r.container(
		v1.exited,
		'done',
		app,
		'app',
		[app, base],
		{ExitCode: 3, StartedAt: '2015-11-20T11:02:00.000000000Z', FinishedAt: '2015-11-20T11:03:00.000000000Z'},
		'2015-11-20T11:02:00.000000000Z',
	);
	r.container(
		v1.orphan,
		'lost',
		v1.goneImage,
		'deleted:1',
		[v1.goneImage],
		{ExitCode: 0, StartedAt: '2015-11-20T11:04:00.000000000Z', FinishedAt: '2015-11-20T11:05:00.000000000Z'},
		'2015-11-20T11:04:00.000000000Z',
	);
	r.write(`containers/${v1.garbage}/config.json`, '{"State": {"Running": tru\u0000\u00ff garbage');
	fs.mkdirSync(r.p('graph/_tmp'), {recursive: true});
	// linkgraph.db (SQLite) holds the names config.json already has; layerlens does not read it.
	r.write('linkgraph.db', Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(84)]));
	fs.mkdirSync(r.p('volumes'), {recursive: true});
	fs.mkdirSync(r.p('tmp'), {recursive: true});
	return r;
}
