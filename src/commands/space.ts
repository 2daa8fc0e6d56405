import {type ImageSpace, imageSpace} from '../disk/efficiency.ts';
import type {Image} from '../model/types.ts';
import {resolveRef} from '../model/resolve.ts';
import {humanSize} from '../units.ts';
import {imageLabel, shortId} from '../view/format.ts';
import {type Line, plainLines, t} from '../view/line.ts';
import {type CommandContext, UsageError, json} from './context.ts';
import {refOptions} from './views.ts';

/** How many inefficiencies the text shows per image (--json has them all). */
const shownInefficiencies = 20;

const percent = (x: number): string => `${(x * 100).toFixed(4)} %`;

function spaceLines(s: ImageSpace, image: Image): Line[] {
	const lines: Line[] = [t`image ${imageLabel(image)} ${shortId(s.imageId)}`];
	if (!s.computed) return [...lines, t`  not computed: ${s.reason ?? ''}`];
	lines.push(t`  efficiency: ${percent(s.efficiency)}`);
	lines.push(
		t`  wasted: ${humanSize(s.wastedBytes)} (${s.wastedBytes} bytes)   user size: ${humanSize(s.userSizeBytes)} (${s.userSizeBytes} bytes)   wasted/user: ${s.wastedUserPercent === null ? '-' : percent(s.wastedUserPercent)}`,
	);
	if (s.inefficiencies.length > 0) {
		lines.push(t`  count  total space  path`);
		for (const i of s.inefficiencies.slice(0, shownInefficiencies))
			lines.push(t`  ${String(i.count).padStart(5)}  ${humanSize(i.cumulativeBytes).padStart(11)}  ${i.path}`);
		if (s.inefficiencies.length > shownInefficiencies)
			lines.push(t`  … ${s.inefficiencies.length - shownInefficiencies} more (--json lists them all)`);
	}
	for (const l of s.layers) {
		lines.push(
			t`  layer ${l.index + 1}/${s.layers.length} ${shortId(l.chainId)}: ${humanSize(l.bytes)} in ${l.files} file${l.files === 1 ? '' : 's'}`,
		);
		for (const b of l.biggest) lines.push(t`    ${humanSize(b.bytes).padStart(9)}  ${b.path}`);
	}
	for (const f of s.findings) lines.push(t`  ${f.severity} ${f.code}: ${f.message}`);
	return lines;
}

/** `layerlens space [IMAGE...]`: wasted bytes, efficiency and the biggest files per layer, per image (all images without REFs). */
export function spaceCommand({args, loaded, io}: CommandContext): number {
	const {model, source} = loaded;
	const images: Image[] = [];
	if (args.refs.length === 0) for (const i of model.images) images.push(i);
	for (const ref of args.refs) {
		const r = resolveRef(model, ref, refOptions(source));
		if (!r.ok) throw new UsageError(r.error);
		if (r.value.kind !== 'image')
			throw new UsageError(`space takes images; ${ref} is ${r.value.kind === 'container' ? 'a container' : 'a layer'}`);
		images.push(r.value.image);
	}
	const results = images.map(i => ({image: i, space: imageSpace(source, model, i)}));
	if (args.json) io.stdout.write(json({schema: 1, images: results.map(r => r.space)}));
	else io.stdout.write(results.map(r => plainLines(spaceLines(r.space, r.image))).join('\n'));
	return 0;
}
