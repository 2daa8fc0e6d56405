// dev only: node --import tsx test/helpers/files-dev-run.ts DRIVER OUTDIR
import {startDockerd, type Driver} from './dockerd.ts';
import {makeFilesState} from './files-scenario.ts';
const [driver, out] = process.argv.slice(2) as [Driver, string];
const daemon = await startDockerd({driver, dir: `${out}/d`});
try {
	const t = Date.now();
	const e = makeFilesState(daemon, out);
	console.log(driver, 'state in', Date.now() - t, 'ms', JSON.stringify(e.diffs).slice(0, 3000));
} finally {
	await daemon.stop();
}
