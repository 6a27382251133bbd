/**
 * The malignancy benchmark (issue 11): single-stage against multi-stage, CT against PET/CT, on data no model
 * trained on, made by one command:
 *
 *   npx tsc -p tsconfig.json && node dist/bench/malignancy.js --multi models/nodes_multi [--single DIR]
 *       [--cases 8] [--site-cases 2 (0: chest and real only)] [--pet-only (PET/CT data: no CT-only row)] [--real ../shared/data/ct/chest_ct_lidc0314.nii.gz] [--real-cases 3] [--real-axilla-cases 8]
 *
 * Data (made once under .bench/malignancy/data, seeds never used in training):
 *   chest        nodal phantom --site chest --modality petct --seed 101
 *   <site>       neck, axilla, abdomen, pelvis: nodal phantom --modality petct --seed 102
 *   real         synthetic nodes inserted into a real CT kept out of every training set (LIDC-IDRI-0314):
 *                nodal phantom --insert-into --site chest --seed 7 (mediastinal, hilar, supraclavicular and
 *                axillary stations) and --site axilla --seed 8 (axillae: the only fat of this scan roomy enough
 *                for nodes of >= 10 mm), as one group; and that scan with no nodes inserted
 * Each configuration runs `nodal predict` and `nodal evaluate` as a user would. Malignant nodes (label 2):
 * sensitivity at 1, 2 and 4 false positives per scan and CPM (FROC, IoU >= 0.1; multi-stage: every node ranked
 * by its probability of malignancy; single-stage: the nodes it labels malignant, by their score); sensitivity
 * and false positives per scan at the model's own call (the nodes it labels malignant); Dice and HD95 of the
 * malignant-node masks, ROC AUC of P(malignant) over the true nodes found; and for nodes of >= 10 mm short
 * axis of either class (evaluate's "all" group), sensitivity at <= 2 FP per scan. Real background also: false
 * positives per scan on the same scan with nothing inserted.
 * Prints a markdown table and writes .bench/malignancy/results.json; --write-card also puts the table into the
 * multi-stage bundle's card.md.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { arg } from './args.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const cli = join(root, 'dist/src/cli/main.js')
const out = resolve(arg('out', join(root, '.bench/malignancy')))
const multi = resolve(arg('multi', join(root, 'models/nodes_multi')))
const single = process.argv.includes('--single') ? resolve(arg('single', '')) : null
const chestCases = Number(arg('cases', '8'))
const siteCases = Number(arg('site-cases', '2'))
const realCases = Number(arg('real-cases', '3'))
const axillaCases = Number(arg('real-axilla-cases', '8'))
const real = resolve(arg('real', join(root, '../shared/data/ct/chest_ct_lidc0314.nii.gz')))
const OTHER_SITES = ['neck', 'axilla', 'abdomen', 'pelvis']

function nodal(args: string[]): void {
  execFileSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'inherit'] })
}

function dataset(name: string, args: string[]): string {
  const dir = join(out, 'data', name)
  if (!existsSync(join(dir, 'dataset.json'))) {
    console.error(`making ${name} (${args.join(' ')})`)
    nodal(['phantom', ...args, '--out', dir])
  }
  return dir
}

/** One dataset folder of symlinks to the cases of several, each case renamed <source folder>_<case>. */
function combined(name: string, dirs: string[]): string {
  const dir = join(out, 'data', name)
  if (existsSync(join(dir, 'dataset.json'))) return dir
  for (const sub of ['imagesTr', 'labelsTr', 'instancesTr']) {
    mkdirSync(join(dir, sub), { recursive: true })
    for (const d of dirs) for (const f of readdirSync(join(d, sub))) symlinkSync(join(d, sub, f), join(dir, sub, `${basename(d)}_${f}`))
  }
  const json = JSON.parse(readFileSync(join(dirs[0]!, 'dataset.json'), 'utf8'))
  json.numTraining = readdirSync(join(dir, 'labelsTr')).length
  writeFileSync(join(dir, 'dataset.json'), JSON.stringify(json, null, 2))
  return dir
}

/** A folder of symlinks to the CT channel only, so predict sees no PET. */
function ctOnly(dir: string): string {
  const target = join(dir, 'ct_only')
  if (!existsSync(target)) {
    mkdirSync(target)
    for (const f of readdirSync(join(dir, 'imagesTr')).filter((f) => f.endsWith('_0000.nii.gz'))) symlinkSync(join(dir, 'imagesTr', f), join(target, f))
  }
  return target
}

interface Config { name: string; model: string; input: (dir: string) => string }

/** The single-stage model is a chest model like stage 1: compared where it was meant to work (chest, real chest CT). */
function configs(hasPet: boolean, tag: string): Config[] {
  const list: Config[] = []
  if (single && (tag === 'chest' || tag === 'real')) list.push({ name: 'single-stage CT', model: single, input: ctOnly })
  if (!(hasPet && process.argv.includes('--pet-only'))) list.push({ name: 'multi-stage CT', model: multi, input: ctOnly })
  if (hasPet) list.push({ name: 'multi-stage PET/CT', model: multi, input: (d) => join(d, 'imagesTr') })
  return list
}

function predict(config: Config, dir: string, tag: string): string {
  const pred = join(out, 'pred', tag, config.name.replace(/[^A-Za-z0-9]+/g, '_'))
  if (!existsSync(pred)) {
    console.error(`predict ${tag}: ${config.name}`)
    nodal(['predict', config.input(dir), '--model', config.model, '--out', `${pred}.tmp`, '--format', 'nifti,json'])
    execFileSync('mv', [`${pred}.tmp`, pred])
  }
  return pred
}

interface Row {
  data: string
  config: string
  cases: number
  malignant_nodes: number
  sens_1fp: number | null
  sens_2fp: number | null
  sens_4fp: number | null
  cpm: number | null
  dice: number | null
  hd95: number | null
  auc: number | null
  /** At the model's own call (the nodes it labels malignant): sensitivity and false positives per scan. */
  sens_called: number | null
  fp_per_scan: number | null
  /** Any node (benign or malignant): sensitivity and false positives per scan of what predict outputs. */
  sens_all: number | null
  fp_per_scan_all: number | null
  sens_10mm_2fp?: number | null
  fp_per_scan_no_nodes?: number | null
}

function evaluateMalignant(pred: string, dir: string, tag: string, config: string): Row {
  const evalDir = join(out, 'eval', tag, config.replace(/[^A-Za-z0-9]+/g, '_'))
  rmSync(evalDir, { recursive: true, force: true })
  nodal(['evaluate', '--pred', pred, '--gt', join(dir, 'labelsTr'), '--gt-instances', join(dir, 'instancesTr'), '--labels', '1,2', '--out', evalDir])
  const m = JSON.parse(readFileSync(join(evalDir, 'metrics.json'), 'utf8'))
  const called = m.detection?.['2']
  // a multi-stage bundle gives every node a probability of malignancy: the FROC sweeps it over all nodes
  // (evaluate's malignant_by_probability); a single-stage model only calls nodes malignant or not
  const d = m.detection?.malignant_by_probability ?? called
  // evaluate's "all" group matches nodes of either class to nodes of either class
  const big = m.detection?.all?.by_size?.['>=10mm']
  const at = (summary: { froc?: { fp_per_scan: number[]; sensitivity: number[] | null } } | undefined, rate: number): number | null => summary?.froc?.sensitivity?.[summary.froc.fp_per_scan.indexOf(rate)] ?? null
  return {
    data: tag, config, cases: m.cases.length, malignant_nodes: called?.gt_nodes ?? 0,
    sens_1fp: at(d, 1), sens_2fp: at(d, 2), sens_4fp: at(d, 4), cpm: d?.cpm ?? null,
    dice: m.aggregate?.['2']?.dice?.mean ?? null, hd95: m.aggregate?.['2']?.hd95?.mean ?? null,
    // a single-stage malignant model gives no probability of malignancy for a node, only 'malignant': no AUC
    auc: config.startsWith('single') ? null : m.classification?.roc_auc ?? null,
    sens_called: called?.sensitivity ?? null, fp_per_scan: called?.fp_per_scan ?? null,
    sens_all: m.detection?.all?.sensitivity ?? null, fp_per_scan_all: m.detection?.all?.fp_per_scan ?? null,
    sens_10mm_2fp: at(big, 2),
  }
}

function fpOnEmptyScan(config: Config): number {
  const dir = join(out, 'data', 'real_no_nodes')
  if (!existsSync(dir)) {
    mkdirSync(join(dir, 'imagesTr'), { recursive: true })
    symlinkSync(real, join(dir, 'imagesTr', `${basename(real).replace(/\.nii(\.gz)?$/, '')}_0000.nii.gz`))
  }
  const pred = predict({ ...config, input: (d) => join(d, 'imagesTr') }, dir, 'real_no_nodes')
  return readdirSync(pred).reduce((n, c) => n + Object.keys(JSON.parse(readFileSync(join(pred, c, 'nodes.json'), 'utf8')).instances).length, 0)
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true })
  const rows: Row[] = []
  const groups: [string, string, boolean][] = [[`chest`, dataset('chest', ['--site', 'chest', '--modality', 'petct', '--cases', String(chestCases), '--seed', '101']), true]]
  if (siteCases > 0) for (const site of OTHER_SITES) groups.push([site, dataset(site, ['--site', site, '--modality', 'petct', '--cases', String(siteCases), '--seed', '102']), true])
  const hasReal = existsSync(real)
  if (hasReal) {
    const chestStations = dataset('real_chest', ['--insert-into', real, '--site', 'chest', '--cases', String(realCases), '--seed', '7'])
    const axillae = dataset('real_axilla', ['--insert-into', real, '--site', 'axilla', '--cases', String(axillaCases), '--seed', '8'])
    groups.push(['real', combined('real', [chestStations, axillae]), false])
  }
  else console.error(`${real} not found: the real-background rows are left out`)
  for (const [tag, dir, hasPet] of groups) {
    for (const config of configs(hasPet, tag)) {
      const pred = predict(config, dir, tag)
      const row = evaluateMalignant(pred, dir, tag, config.name)
      if (tag === 'real') row.fp_per_scan_no_nodes = fpOnEmptyScan(config)
      rows.push(row)
      console.error(JSON.stringify(row))
    }
  }
  writeFileSync(join(out, 'results.json'), JSON.stringify({ created: new Date().toISOString(), multi, single, rows }, null, 2) + '\n')
  console.log(table(rows))
  if (process.argv.includes('--write-card')) writeCardSection(join(multi, 'card.md'), rows)
}

const CARD_LEGEND = 'sens @k FP: malignant-node FROC sensitivity at k false positives per scan (multi-stage: every node ranked by its probability of malignancy; single-stage: the nodes it labels malignant, by score). called malignant: sensitivity and FP per scan of the nodes the model labels malignant.'

/** Puts the table into the multi-stage bundle's card.md, replacing an earlier benchmark section. */
function writeCardSection(card: string, rows: Row[]): void {
  const heading = '## Benchmark (bench/malignancy.ts)'
  const text = existsSync(card) ? readFileSync(card, 'utf8') : ''
  const start = text.indexOf(heading)
  const end = start < 0 ? -1 : text.indexOf('\n## ', start + heading.length)
  const before = start < 0 ? text.trimEnd() : text.slice(0, start).trimEnd()
  const after = end < 0 ? '' : text.slice(end)
  const section = [heading, '', `Held-out data no model trained on (phantom seeds 101/102; LIDC-IDRI-0314 with nodes inserted). Made by \`node dist/bench/malignancy.js --multi <this bundle>${single ? ' --single <bundle>' : ''} --write-card\` on ${new Date().toISOString().slice(0, 10)}.`, '', table(rows), '', CARD_LEGEND].join('\n')
  writeFileSync(card, `${before}\n\n${section}\n${after}`)
  console.error(`wrote the table into ${card}`)
}

function table(rows: Row[]): string {
  const f = (v: number | null | undefined, d = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d))
  const head = '| data | pipeline | cases | malignant nodes | sens @1 FP | sens @2 FP | sens @4 FP | CPM | malignant Dice | HD95 mm | AUC malignant | called malignant: sens, FP/scan | any node: sens, FP/scan | any node >=10 mm: sens @2 FP | FP/scan, no nodes inserted |'
  return [head, '|' + '---|'.repeat(15), ...rows.map((r) => `| ${r.data} | ${r.config} | ${r.cases} | ${r.malignant_nodes} | ${f(r.sens_1fp)} | ${f(r.sens_2fp)} | ${f(r.sens_4fp)} | ${f(r.cpm)} | ${f(r.dice)} | ${f(r.hd95, 1)} | ${f(r.auc)} | ${f(r.sens_called)}, ${f(r.fp_per_scan, 2)} | ${f(r.sens_all)}, ${f(r.fp_per_scan_all, 2)} | ${f(r.sens_10mm_2fp)} | ${f(r.fp_per_scan_no_nodes, 0)} |`)].join('\n')
}

await main()
