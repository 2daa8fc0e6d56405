// Volumes and networks against a real dockerd (overlay2): a named volume with labels,
// a volume with -o options (opts.json), anonymous volumes (from the image's VOLUME), a bind
// mount, and user-defined bridge networks (--internal with a subnet and a label; a plain one).
// The daemon is killed (SIGKILL) while a container runs on the internal network, as when a
// running host is copied, so libnetwork's endpoint and sandbox records stay in local-kv.db.
// The model must say what `docker volume inspect`, `docker network inspect` and `docker inspect` said.
import * as fs from 'node:fs';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {cleanup, dockerdAvailable, startDockerd} from '../helpers/dockerd.ts';
import {makeVolumeState, type VolumeExpected} from '../helpers/volume-state.ts';
import {loadModel, openSource} from '../../src/load.ts';
import {resolveAnyRef} from '../../src/model/resolve.ts';
import {bucketAt, openBolt} from '../../src/formats/bbolt.ts';
import {inspectAnyJson, modelJson} from '../../src/view/json.ts';
import {cli} from '../helpers/run-cli.ts';

const avail = dockerdAvailable();

const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

if (!avail.ok) {
	test('volumes and networks with a real dockerd (needs root + dockerd)', () => {
		if (process.env.CI) assert.unreachable(`dockerd harness cannot run in CI: ${avail.why}`);
		console.log(`  skip: dockerd harness: ${avail.why}`);
	});
} else {
	test('volumes and networks: the model agrees with docker volume inspect, docker network inspect and docker inspect', async () => {
		const daemon = await startDockerd({driver: 'overlay2'});
		let e: VolumeExpected;
		try {
			e = makeVolumeState(daemon);
			// A running host copied: the daemon dies without cleaning up its endpoints.
			process.kill(daemon.pid, 'SIGKILL');
			for (let i = 0; i < 100 && !daemon.exited; i++) await sleep(50);
			if (e.sleeperPid !== null && alive(e.sleeperPid)) process.kill(e.sleeperPid, 'SIGKILL');
			await daemon.stop();
		} catch (error) {
			await cleanup(daemon);
			throw error;
		}
		try {
			console.log(`  notes: ${e.notes.join(' | ')}`);
			const root = daemon.root;
			const m = loadModel(openSource(root)).model;
			const vols = m.volumes!;
			const nets = m.networks!;
			// Volumes: names, drivers, labels, options, mountpoints, CreatedAt (= _data's mtime, to the second).
			assert.equal(vols.map(v => v.name).sort(), e.volumes.map(v => v.Name).sort(), 'volume names');
			for (const dv of e.volumes) {
				const v = vols.find(x => x.name === dv.Name)!;
				assert.is(v.driver, dv.Driver, `${dv.Name} driver`);
				assert.equal(v.labels ?? {}, dv.Labels ?? {}, `${dv.Name} labels`);
				assert.equal(v.options ?? {}, dv.Options ?? {}, `${dv.Name} options`);
				assert.is(`${root}/${v.dataPath}`, dv.Mountpoint, `${dv.Name} mountpoint`);
				assert.is(
					v.dataModified!.replace(/\.\d+Z$/, 'Z'),
					new Date(dv.CreatedAt).toISOString().replace(/\.\d+Z$/, 'Z'),
					`${dv.Name} CreatedAt`,
				);
				assert.ok(v.inDb);
			}
			const named = vols.find(v => v.name === 'named')!;
			assert.is(named.size, e.namedVolumeBytes, 'named volume size');
			assert.is(named.fileCount, 2);
			const withopts = vols.find(v => v.name === 'withopts')!;
			assert.equal(
				withopts.opts,
				{MountType: 'tmpfs', MountOpts: 'size=1m', MountDevice: 'tmpfs', Quota: {Size: 0}},
				'opts.json',
			);
			// Which containers mount which volume where: docker inspect's Mounts of Type volume.
			const want = e.containers.flatMap((c: any) =>
				c.Mounts.filter((mt: any) => mt.Type === 'volume').map((mt: any) => [mt.Name, c.Id, mt.Destination, mt.RW]),
			);
			const got = vols.flatMap(v => v.mounts.map(mt => [v.name, mt.containerId, mt.destination, mt.rw]));
			assert.equal(got.sort(), want.sort(), 'volume mounts');
			const anonymous = vols.filter(v => /^[0-9a-f]{64}$/.test(v.name));
			assert.is(anonymous.length, 3, 'three anonymous volumes (VOLUME /anon, one per container)');
			// Networks: ids, names, drivers, scope, internal, labels, subnets and gateways.
			assert.equal(nets.map(n => n.id).sort(), e.networks.map(n => n.Id).sort(), 'network ids');
			for (const dn of e.networks) {
				const n = nets.find(x => x.id === dn.Id)!;
				assert.is(n.name, dn.Name);
				assert.is(n.driver, dn.Driver);
				assert.is(n.scope, dn.Scope);
				assert.is(n.internal, dn.Internal);
				assert.equal(n.labels ?? {}, dn.Labels ?? {}, `${dn.Name} labels`);
				assert.is(n.created!.slice(0, 19), new Date(dn.Created).toISOString().slice(0, 19), `${dn.Name} created`);
				const cfg = (dn.IPAM?.Config ?? []) as Array<{Subnet: string; Gateway?: string}>;
				assert.equal(n.subnets.map(s => s.subnet).sort(), cfg.map(c => c.Subnet).sort(), `${dn.Name} subnets`);
				for (const c of cfg)
					if (c.Gateway)
						assert.is(n.subnets.find(s => s.subnet === c.Subnet)!.gateway, c.Gateway, `${dn.Name} gateway`);
				// Containers attached while the daemon ran: their endpoints are on disk (the daemon was killed).
				for (const [cid, a] of Object.entries(dn.Containers ?? {}) as Array<[string, any]>) {
					const got = n.containers.find(x => x.containerId === cid);
					assert.ok(got, `${dn.Name}: container ${cid} attached`);
					assert.is(got!.endpointId, a.EndpointID);
					assert.is(got!.source, 'both', 'from config.v2.json and local-kv.db');
					assert.is(got!.ipAddress, String(a.IPv4Address).replace(/\/\d+$/, ''));
					assert.is(got!.macAddress, a.MacAddress);
				}
			}
			assert.ok(e.madeNetworks.includes('internal'), 'an internal bridge network can be made with --bridge none');
			const internal = nets.find(n => n.name === 'internal')!;
			assert.equal(internal.subnets, [{subnet: '10.77.0.0/24', gateway: '10.77.0.1'}]);
			assert.ok(internal.bridgeName?.startsWith('br-'));
			// writer is attached by its config only (stopped: no endpoint left).
			const writer = e.containers.find((c: any) => c.Name === '/writer');
			assert.ok(internal.containers.some(a => a.containerId === writer.Id && a.source === 'config'));
			// No finding about volumes or networks on a healthy root.
			assert.equal(
				m.findings.filter(f => /^(volume|network|store:volumes|store:network)/.test(f.subject)),
				[],
			);
			// inspect a volume by name and a network by name; model JSON carries both arrays.
			const r = resolveAnyRef(m, 'named');
			assert.ok(r.ok && r.value.kind === 'volume');
			const iv = inspectAnyJson(m, (r as {ok: true; value: any}).value) as any;
			assert.is(iv.kind, 'volume');
			assert.is(iv.mounts.length, 2);
			const rn = resolveAnyRef(m, 'internal');
			assert.ok(rn.ok && rn.value.kind === 'network');
			const j = modelJson(m);
			assert.is(j.volumes.length, e.volumes.length);
			assert.is(j.networks.length, e.networks.length);
			const viaCli = JSON.parse(cli(['model', '--root', root]).stdout);
			assert.equal(viaCli.volumes, JSON.parse(JSON.stringify(j.volumes)), 'model via the CLI');
			// `layerlens inspect NAME` takes a volume or network name, as docker volume/network inspect do.
			const inspected = cli(['inspect', 'named', '--root', root]);
			assert.is(inspected.code, 0, inspected.stderr);
			assert.equal(JSON.parse(inspected.stdout), JSON.parse(JSON.stringify(iv)), 'inspect a volume via the CLI');
			const dvNamed = e.volumes.find(v => v.Name === 'named')!;
			assert.is(
				JSON.parse(inspected.stdout).dataPath,
				dvNamed.Mountpoint.slice(root.length + 1),
				'its _data is docker volume inspect Mountpoint',
			);
			const netCli = cli(['inspect', 'internal', '--root', root]);
			assert.is(netCli.code, 0, netCli.stderr);
			assert.is(JSON.parse(netCli.stdout).kind, 'network');
			assert.is(JSON.parse(netCli.stdout).id, e.networks.find((n: any) => n.Name === 'internal').Id);
			const none = cli(['inspect', 'no-such-volume', '--root', root]);
			assert.is(none.code, 2);
			assert.match(none.stderr, /no container, image, layer, volume or network matches/);
			// The managed containerd's meta.db (bbolt) of a killed daemon: the running container's OCI spec
			// is larger than a page, so it lives on overflow pages; it must come back whole.
			const meta = openBolt(fs.readFileSync(`${root}/containerd/daemon/io.containerd.metadata.v1.bolt/meta.db`));
			assert.ok(meta.ok);
			if (meta.ok && e.sleeperPid !== null) {
				const sleeperId = e.containers.find((c: any) => c.Name === '/sleeper').Id;
				const at = bucketAt(meta.db, ['v1', 'moby', 'containers', sleeperId]);
				assert.equal(at.errors, []);
				const fields = new Map(meta.db.entries(at.bucket!).entries.map(x => [x.key.toString(), x]));
				const spec = fields.get('spec')!.value!;
				assert.ok(spec.length > meta.db.meta.pageSize, `spec is ${spec.length} bytes`);
				const json = spec.toString('latin1');
				assert.ok(json.includes('"ociVersion"') && json.includes(sleeperId), 'the OCI spec inside the protobuf Any');
				assert.is(fields.get('snapshotKey')?.value?.length ?? 0, 0, 'snapshotKey is empty in graph-driver mode');
			}
		} finally {
			await cleanup(daemon);
		}
	});
}

test.run();
