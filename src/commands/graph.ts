import {buildGraph} from '../teach/object-graph.ts';
import {renderDot, renderMermaid} from '../view/graph-text.ts';
import type {CommandContext} from './context.ts';
import {refOptions, selectForTree} from './views.ts';

/** `layerlens graph [REF...] --format dot|mermaid`: without REFs, every container and image. */
export function graphCommand({args, loaded, io}: CommandContext): number {
	const model = loaded.model;
	const {containers, images} =
		args.refs.length === 0
			? {containers: model.containers, images: model.images}
			: selectForTree(model, args.refs, refOptions(loaded.source));
	const g = buildGraph(model, containers, images);
	io.stdout.write(args.graphFormat === 'mermaid' ? renderMermaid(g) : renderDot(g));
	return 0;
}
