import {loadModel, openSource} from '../src/load.ts';
import {measureUi} from '../src/ui/measure.ts';
import {packModel, unpackModel} from '../src/ui/pack.ts';
import {makeContainerDetails} from '../src/ui/container-details.ts';
const root = process.env['HOME'] + '/.cache/layerlens-bench/overlay2-3000/data';
const source = openSource(root);
const model = unpackModel(packModel(loadModel(source).model));
const out: string[] = [];
for (let i = 0; i < 4; i++) {
	const t = await measureUi(model, {width: 100, height: 30, source, details: makeContainerDetails(source)});
	out.push(t.keyMedianMs.toFixed(1));
}
console.log(process.argv[2], 'medians', out.join(' '));
