import {resolveRef} from '../model/resolve.ts';
import {refOptions} from './views.ts';
import {imageOf, provenance} from '../teach/provenance.ts';
import {explainContainer, explainImage, explainLayer} from '../teach/explain.ts';
import {renderSections} from '../view/explain-text.ts';
import {shortId} from '../view/format.ts';
import {inspectJson} from '../view/json.ts';
import {provenanceJson, renderProvenance} from '../view/provenance-text.ts';
import {type CommandContext, UsageError, json} from './context.ts';

/**
 * `layerlens inspect REF --provenance` and/or `--explain`: text by default (these are for
 * people); with --json, the provenance as JSON, or the usual inspect JSON with an "explain" array.
 */
export function inspectTeachCommand({args, loaded, io, paint}: CommandContext): number {
	const model = loaded.model;
	const r = resolveRef(model, args.refs[0]!, refOptions(loaded.source));
	if (!r.ok) throw new UsageError(r.error);
	const v = r.value;
	if (args.provenance && v.kind !== 'container')
		throw new UsageError(
			`--provenance applies to a container; ${args.refs[0]!} is ${v.kind === 'image' ? 'an image' : 'a layer'}`,
		);
	const sections = !args.explain
		? []
		: v.kind === 'container'
			? explainContainer(model, v.container)
			: v.kind === 'image'
				? explainImage(model, v.image)
				: explainLayer(model, v.layer);
	if (args.json) {
		if (v.kind === 'container' && args.provenance) {
			const p = provenance(v.container, imageOf(model, v.container));
			io.stdout.write(json(args.explain ? {...provenanceJson(p), explain: sections} : provenanceJson(p)));
		} else io.stdout.write(json({...inspectJson(model, v), explain: sections}));
		return 0;
	}
	let text = '';
	if (v.kind === 'container' && args.provenance) {
		const image = imageOf(model, v.container);
		const label =
			image === undefined
				? `${shortId(v.container.imageId)} (not in the image store)`
				: `${image.tags.length > 0 ? image.tags[0]! : '<none>'} (${shortId(image.id)})`;
		text += renderProvenance(provenance(v.container, image), paint, label);
	}
	if (args.explain) text += renderSections(sections, paint).replace(/^\n/, text === '' ? '' : '\n');
	io.stdout.write(text);
	return 0;
}
