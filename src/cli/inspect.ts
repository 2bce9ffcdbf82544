// `serve-batch inspect model.onnx`: what the model takes and gives, and a job snippet to start from.
import path from 'node:path';
import { SbError } from '../errors.js';
import { modelSnippet } from '../run/init.js';
import { typeToString, type ModelInfo, type ValueInfo } from '../model/model-info.js';
import { parseModel, readModelFile } from '../model/session.js';
import { createLogger, type LogFormat } from './logger.js';
import { reportError, withoutModelPath } from './report-error.js';
import { printOut } from './stdio.js';

export interface InspectOptions {
  json?: boolean;
  logFormat?: LogFormat;
}

export async function inspectCommand(file: string, o: InspectOptions): Promise<number> {
  let info: ModelInfo;
  try {
    const { bytes } = await readModelFile(file);
    info = parseModel(file, bytes);
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    return reportError(createLogger({ format: o.logFormat }), withoutModelPath(err));
  }
  const text = o.json ? `${JSON.stringify({ file: path.resolve(file), ...info, snippet: snippetText(info) })}\n` : renderInspect(file, info);
  if (await printOut(text)) return 0;
  return reportError(createLogger({ format: o.logFormat }), new SbError('OUTPUT_CLOSED', 'the reader of standard output closed it before the report was written'));
}

function row(v: ValueInfo, zip?: (string | number)[]): string {
  const tensor = v.type.kind === 'tensor';
  const note = zip ? `  ZipMap: read as float32 [N, ${zip.length}], classes ${zip.join(', ')}` : tensor ? '' : '  (not a tensor: cannot be fetched)';
  return `  ${v.name}  ${typeToString(v.type)}${note}\n`;
}

// The text report.
export function renderInspect(file: string, info: ModelInfo): string {
  let out = `${file}\n`;
  const producer = [info.producerName, info.producerVersion].filter(Boolean).join(' ');
  if (producer) out += `producer: ${producer}\n`;
  out += `ir_version: ${info.irVersion ?? '?'}; opsets: ${info.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}\n`;
  out += 'inputs:\n';
  for (const i of info.inputs) out += row(i);
  out += 'outputs:\n';
  for (const o of info.outputs) out += row(o, info.zipmaps.find((z) => z.output === o.name)?.labels);
  for (const [output, labels] of Object.entries(info.classLabels)) out += `class labels of ${output}: ${labels.join(', ')}\n`;
  const meta = Object.entries(info.metadata);
  if (meta.length) out += `metadata:\n${meta.map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`;
  const snippet = snippetText(info);
  out += snippet.startsWith('#') ? `\njob snippet: ${snippet.slice(2)}` : `\njob snippet (paste into a job file; serve-batch init maps it onto a sample's header):\n${snippet}`;
  return out;
}

// The features/predictions YAML for this model, or `# why not` when serve-batch cannot feed it.
function snippetText(info: ModelInfo): string {
  try {
    const s = modelSnippet(info);
    return `${[...s.features, ...s.predictions].join('\n')}\n`;
  } catch (err) {
    if (err instanceof SbError) return `# none: ${err.message}\n`;
    throw err;
  }
}
