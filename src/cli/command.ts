import { NodalError } from '../errors.js'

/** One CLI command: a thin layer that parses options and calls the library (declare one with defineCommand, options.ts). */
export interface Command {
  name: string
  /** One line for `nodal --help`; comes from COMMANDS. */
  summary: string
  /** Full help text: usage, description, every option, examples. */
  help: string
  run(argv: string[]): Promise<number>
}

export interface CommandEntry {
  name: string
  summary: string
  /** Imports the command's module, and with it its dependencies (some are heavy: onnxruntime, ITK). */
  load(): Promise<Command>
}

/**
 * Every command, in the order `nodal --help` lists them. Light on purpose: listing commands imports
 * none of their modules. A new command is one line here plus its module (defineCommand with the same name).
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'info', summary: 'describe a scan: grid, orientation, data type, intensities, DICOM series', load: async () => (await import('./info.js')).infoCommand },
  { name: 'convert', summary: 'convert a scan between NIfTI, NRRD, MetaImage and DICOM, keeping voxels and geometry', load: async () => (await import('./convert.js')).convertCommand },
  { name: 'evaluate', summary: 'compare predictions with ground truth: Dice, HD95, NSD, node detection, FROC, AP, classification', load: async () => (await import('./evaluate.js')).evaluateCommand },
  { name: 'export', summary: 'write a label map as a DICOM RT Structure Set or DICOM-SEG on a reference CT/MR/PET series', load: async () => (await import('./export.js')).exportCommand },
  { name: 'dataset', summary: 'bring your own data: import DICOM + RTSTRUCT/SEG or NIfTI pairs into a dataset, check a dataset, merge datasets', load: async () => (await import('./dataset.js')).datasetCommand },
  { name: 'plan', summary: 'self-configure training for a dataset and a time budget: plans.json and a preprocessed cache', load: async () => (await import('./plan.js')).planCommand },
  { name: 'train', summary: 'train a segmentation network from a plan into a model bundle (ONNX, weights, card)', load: async () => (await import('./train.js')).trainCommand },
  { name: 'predict', summary: 'find and outline nodes in a scan with a model bundle: labels, nodes with measurements, RTSTRUCT/SEG, report', load: async () => (await import('./predict.js')).predictCommand },
  { name: 'view', summary: 'review nodes in the web browser: Niivue views, node table, accept/reject/edit, save, RTSTRUCT/SEG, in-browser inference', load: async () => (await import('./view.js')).viewCommand },
  { name: 'demo', summary: 'run the main job on built-in data: a synthetic chest CT in, the shipped model finds the nodes, RTSTRUCT/SEG out, metrics', load: async () => (await import('./demo.js')).demoCommand },
  { name: 'phantom', summary: 'make synthetic scans with benign and malignant lymph nodes (nnU-Net v2 dataset), or insert nodes into a real CT', load: async () => (await import('./phantom.js')).phantomCommand },
  { name: 'bench', summary: 'time a training step through nodal vs Python PyTorch on the same libtorch', load: async () => (await import('./bench.js')).benchCommand },
]

/** The registered summary of a command; a command missing from COMMANDS is a programming error. */
export function summaryOf(name: string): string {
  const entry = COMMANDS.find((c) => c.name === name)
  if (!entry) throw new Error(`command '${name}' is not registered in COMMANDS (src/cli/command.ts)`)
  return entry.summary
}

/** A one-line command-line error naming the command and pointing at its help; the CLI exits 2. */
export function usageError(command: string, message: string): NodalError {
  return new NodalError('usage', `${command}: ${message} (see nodal ${command} --help)`)
}
