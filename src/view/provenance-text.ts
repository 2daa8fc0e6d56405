import {append} from '../append.ts';
import type {ConfigMark, HostMark, Origin, Provenance} from '../teach/provenance.ts';
import {shortId} from './format.ts';
import type {Paint} from './paint.ts';
import {type Line, type Segment, padSeg, renderLines, t, tone} from './line.ts';

/** Any stored value as one line: strings as they are, the rest as JSON (cleaned where it is shown: seg, t). */
function valueText(v: unknown): string {
	if (v === undefined) return '(absent)';
	if (v === null) return 'null';
	if (typeof v === 'string') return v === '' ? '""' : v;
	return JSON.stringify(v) ?? String(v);
}

const originLegend =
	"image = from the image's config; user = in the create request (a flag, the command, or the docker client's default); daemon = filled in by the daemon; default = not set";

function originTone(o: Origin | HostMark['origin']): (s: string) => Segment {
	return o === 'user'
		? tone.ok
		: o === 'daemon'
			? tone.info
			: o === 'image'
				? tone.role
				: o === 'unknown'
					? tone.warning
					: tone.dim;
}

/** A mark's value: an entry as KEY=VALUE (Env is already one), a field as its value. */
export function markValue(m: ConfigMark): string {
	if (m.key === null) return valueText(m.value);
	if (m.field === 'Env') return m.value === undefined ? `${m.key} (absent)` : valueText(m.value);
	if (m.field === 'Labels') return m.value === undefined ? `${m.key} (absent)` : `${m.key}=${valueText(m.value)}`;
	return m.value === undefined ? `${m.key} (absent)` : m.key;
}

/** The note for a mark, with the image's value when the user replaced it. */
export function markNote(m: ConfigMark): string {
	const parts: string[] = [];
	if (m.note !== null) parts.push(m.note);
	if (m.imageValue !== undefined && m.origin !== 'image') {
		const iv = m.field === 'Labels' && m.key !== null ? `${m.key}=${valueText(m.imageValue)}` : valueText(m.imageValue);
		parts.push(`image: ${iv}`);
	}
	return parts.join('; ');
}

/** The host settings part of `inspect --provenance`: set in the create request, filled in by the daemon, the rest counted. */
function hostLines(p: Provenance): Line[] {
	const set = p.host.filter(h => h.origin === 'user');
	const daemon = p.host.filter(h => h.origin === 'daemon');
	const defaults = p.host.filter(h => h.origin === 'default');
	if (p.host.length === 0) return [t`${tone.title('Host settings (hostconfig.json)')}  not recorded`];
	const out: Line[] = [[tone.title(`Host settings (hostconfig.json) set in the create request: ${set.length}`)]];
	for (const h of set)
		out.push(t`  ${padSeg(h.field, 20)} ${valueText(h.value)}${h.note === null ? '' : tone.dim(`   ${h.note}`)}`);
	if (daemon.length > 0) {
		out.push([tone.title(`Filled in by the daemon: ${daemon.length}`)]);
		for (const h of daemon) out.push(t`  ${padSeg(h.field, 20)} ${tone.dim(h.note ?? '')}`);
	}
	out.push([tone.dim(`At the client's defaults or zero: ${defaults.length} more (--json lists every field)`)]);
	return out;
}

/** `inspect CONTAINER --provenance` as text. */
export function renderProvenance(p: Provenance, paint: Paint, imageLabel: string): string {
	const out: Line[] = [];
	out.push(
		t`${tone.title('container')} ${tone.id(p.containerName ?? '?')} ${shortId(p.containerId)}  image ${imageLabel}`,
	);
	out.push([tone.dim(originLegend)]);
	if (!p.imageKnown)
		out.push([
			tone.warning(
				"the image's config is not in this root: origins other than the daemon's cannot be told (marked unknown)",
			),
		]);
	out.push([], [tone.title('Config (config.v2.json), field by field')]);
	let last = '';
	for (const m of p.config) {
		const field = m.field === last ? '' : m.field;
		last = m.field;
		const note = markNote(m);
		out.push(
			t`  ${padSeg(field, 14)} ${originTone(m.origin)(m.origin.padEnd(7))}  ${markValue(m)}${note === '' ? '' : tone.dim(`   ${note}`)}`,
		);
	}
	if (p.command !== null)
		out.push(
			t`  ${'(runs)'.padEnd(14)} ${tone.info('daemon'.padEnd(7))}  ${p.command}${tone.dim('   Path and Args: what the daemon runs, from Entrypoint + Cmd')}`,
		);
	out.push([]);
	append(out, hostLines(p));
	return renderLines(out, paint);
}

/** `inspect CONTAINER --provenance --json`. */
export function provenanceJson(p: Provenance) {
	return {
		kind: 'provenance',
		container: {id: p.containerId, name: p.containerName},
		image: {id: p.imageId, known: p.imageKnown},
		config: p.config.map(m => ({
			field: m.field,
			key: m.key,
			...(m.value === undefined ? {} : {value: m.value}),
			origin: m.origin,
			...(m.imageValue === undefined ? {} : {imageValue: m.imageValue}),
			note: m.note,
		})),
		command: p.command,
		host: p.host,
	};
}
