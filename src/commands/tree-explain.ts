import {explainSelection} from '../teach/explain.ts';
import {renderSections} from '../view/explain-text.ts';
import {treeJson} from '../view/json.ts';
import {renderTree} from '../view/text-tree.ts';
import {type CommandContext, json} from './context.ts';
import {refOptions, selectForTree} from './views.ts';
import {renderLines, tone} from '../view/line.ts';

/** `layerlens tree [REF...] --explain`: the tree, then what each object and file of the first container (per driver) is. */
export function treeExplainCommand({args, loaded, io, paint}: CommandContext): number {
	const {containers, images} = selectForTree(loaded.model, args.refs, refOptions(loaded.source));
	const sections = explainSelection(loaded.model, containers, images);
	if (args.json) {
		io.stdout.write(json({...treeJson(loaded.model, containers, images), explain: sections}));
		return 0;
	}
	io.stdout.write(renderTree(loaded.model, containers, images, {paint}));
	io.stdout.write(renderLines([[], [tone.title('What you are looking at')]], paint));
	io.stdout.write(renderSections(sections, paint));
	return 0;
}
