/**
 * nodal view's page: Niivue (axial, coronal, sagittal, 3D), CT windows, PET fused, the label map as
 * Niivue's drawing layer in nodal's class colours (src/colours.ts), the node table, review (accept,
 * reject, class, brush, undo), save, inference in a worker or on the server, and opening a NIfTI file or
 * a DICOM folder (dropped, or chosen with the Open buttons).
 *
 * Voxel orders: the server sends labels and node ids in the scan file's voxel order; Niivue keeps its
 * drawing in RAS order (its img2RAS permutation). `forEachRasVoxel` walks one in the order of the other.
 * Positions: nodes.json centres are LPS mm; Niivue's world is RAS mm (x and y negated).
 */
import { Niivue, SHOW_RENDER, SLICE_TYPE } from '@niivue/niivue'
import { zipSync } from 'fflate'
import { nodeColour, OTHER_COLOUR } from '../../colours.js'
import { encodeSparse } from '../sparse.js'
import type { RunRequest, WorkerMessage, WorkerNode } from './protocol.js'

interface ClassInfo { index: number; name: string }
interface NodeRow extends WorkerNode {
  score_max?: number
  short_axis_mm?: number
  volume_ml?: number
  suv_max?: number | null
  entropy?: number
  centre_mm?: [number, number, number]
  probability_malignant?: number
}
type Decision = 'unreviewed' | 'accepted' | 'rejected'
interface Session {
  version: number
  reviewer: string
  model: { name: string; acceptsPet: boolean } | null
  case: { name: string; shape: number[]; dicom: boolean; pet: boolean; classes: ClassInfo[]; nodes: NodeRow[]; out: string } | null
}

const WINDOWS: Record<string, { width: number; level: number }> = {
  soft: { width: 400, level: 40 },
  lung: { width: 1500, level: -600 },
  bone: { width: 1800, level: 400 },
}

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T

const state = {
  session: null as Session | null,
  classes: [] as ClassInfo[],
  nodes: [] as NodeRow[],
  decisions: new Map<number, { decision: Decision; class_index?: number }>(),
  /** Node id per voxel in Niivue's RAS order. */
  instancesRas: new Uint16Array(0) as Uint16Array,
  selected: 0,
  hovered: 0,
  tool: 'view' as 'view' | 'draw' | 'erase',
  /** Decisions before each change, for undo (Niivue keeps the drawing's own history). */
  undo: [] as { decisions: [number, { decision: Decision; class_index?: number }][]; drawing: boolean }[],
  scanBytes: null as ArrayBuffer | null,
  localScan: false,
  busy: false,
}

const nv = new Niivue({
  backColor: [0.05, 0.05, 0.05, 1],
  show3Dcrosshair: true,
  dragAndDropEnabled: false,
  multiplanarShowRender: SHOW_RENDER.ALWAYS,
  isColorbar: false,
  crosshairWidth: 1,
  crosshairColor: [0.2, 0.75, 1, 1],
  crosshairGap: 14,
  // CT is read in the radiological convention: the patient's right on the screen's left
  isRadiologicalConvention: true,
})

function status(text: string, error = false): void {
  const el = $('#status')
  el.textContent = text
  el.classList.toggle('error', error)
}

async function api<T>(url: string, init?: RequestInit): Promise<T> {
  const r = await fetch(url, init)
  const body = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }))
  if (!r.ok) throw new Error(body.error ?? `${r.status} ${r.statusText}`)
  return body as T
}

// ------------------------------------------------------------------ loading

async function loadSession(): Promise<void> {
  const s = await api<Session>('/api/session')
  state.session = s
  ;($('#run-browser') as HTMLButtonElement).disabled = !s.model
  ;($('#run-server') as HTMLButtonElement).disabled = !s.model
  if (!s.case) {
    document.body.classList.add('empty')
    status('no scan: drop a NIfTI file or a DICOM folder on the page, or open one')
    return
  }
  document.body.classList.remove('empty')
  $('#case-name').textContent = s.case.name
  status(`loading ${s.case.name}…`)
  const volumes: { url: string; name: string; colormap?: string; opacity?: number }[] = [{ url: `/data/scan.nii?v=${s.version}`, name: 'scan.nii' }]
  if (s.case.pet) volumes.push({ url: `/data/pet.nii?v=${s.version}`, name: 'pet.nii', colormap: 'hot', opacity: 0.5 })
  await nv.loadVolumes(volumes)
  state.scanBytes = null
  state.localScan = false
  $('#pet-control').hidden = !s.case.pet
  if (s.case.pet) robustPetRange()
  applyWindow('soft')
  await loadLabels(s)
  status(`${s.case.name}: ${state.nodes.length} node(s)${s.model ? ` · model ${s.model.name}` : ''}`)
}

/** Labels and node ids from the server, into the drawing layer and the table. */
async function loadLabels(s: Session): Promise<void> {
  const [labels, instances] = await Promise.all([
    fetch(`/data/labels.u8?v=${s.version}`).then((r) => r.arrayBuffer()),
    fetch(`/data/instances.u16?v=${s.version}`).then((r) => r.arrayBuffer()),
  ])
  showResult(new Uint8Array(labels), new Uint16Array(instances), s.case!.nodes, s.case!.classes)
}

/** Shows a class map and node ids (file order) with their nodes, replacing what was shown. */
function showResult(labelsFile: Uint8Array, instancesFile: Uint16Array, nodes: NodeRow[], classes: ClassInfo[]): void {
  const back = nv.back!
  const n = back.hdr!.dims![1]! * back.hdr!.dims![2]! * back.hdr!.dims![3]!
  if (labelsFile.length !== n) throw new Error(`labels have ${labelsFile.length} voxels, the scan ${n}`)
  nv.createEmptyDrawing()
  const bitmap = nv.drawBitmap!
  state.instancesRas = new Uint16Array(n)
  forEachRasVoxel((j, f) => {
    bitmap[j] = labelsFile[f]!
    state.instancesRas[j] = instancesFile[f]!
  })
  state.classes = classes.filter((c) => c.index > 0)
  state.nodes = nodes
  state.decisions = new Map(nodes.map((node) => [node.id, { decision: (node.review as { decision?: Decision } | undefined)?.decision === 'accepted' ? 'accepted' : 'unreviewed' }]))
  state.undo = []
  state.selected = 0
  nv.setDrawColormap(classColormap(classes) as unknown as string)
  nv.setDrawOpacity(Number(($('#overlay-opacity') as HTMLInputElement).value))
  nv.drawAddUndoBitmap()
  nv.refreshDrawing(true)
  renderTable()
}

/**
 * Niivue's img2RAS permutation, walked: calls visit(j, f) for every voxel, j its index in RAS order (the
 * drawing's), f its index in the file's order. No index table: for a 512x512x300 scan it would take 300 MB.
 */
export function forEachRasVoxel(visit: (ras: number, file: number) => void): void {
  const back = nv.back!
  const permRAS = back.permRAS!, dims = back.hdr!.dims!
  const aperm = permRAS.map(Math.abs)
  const outdim = [dims[aperm[0]!]!, dims[aperm[1]!]!, dims[aperm[2]!]!]
  const inStep = [1, dims[1]!, dims[1]! * dims[2]!]
  const outStep = [inStep[aperm[0]! - 1]!, inStep[aperm[1]! - 1]!, inStep[aperm[2]! - 1]!]
  const outStart = [0, 0, 0]
  for (let p = 0; p < 3; p++) {
    if (permRAS[p]! < 0) {
      outStart[p] = outStep[p]! * (outdim[p]! - 1)
      outStep[p] = -outStep[p]!
    }
  }
  let j = 0
  for (let z = 0; z < outdim[2]!; z++) {
    const zi = outStart[2]! + z * outStep[2]!
    for (let y = 0; y < outdim[1]!; y++) {
      const yi = zi + outStart[1]! + y * outStep[1]!
      for (let x = 0; x < outdim[0]!; x++) visit(j++, yi + outStart[0]! + x * outStep[0]!)
    }
  }
}

/** A Niivue label colormap: class index -> nodal's colour for the class name (colours.ts). */
function classColormap(classes: ClassInfo[]) {
  const R = [0], G = [0], B = [0], A = [0], I = [0], labels = ['']
  for (const c of classes.filter((k) => k.index > 0 && k.index < 256)) {
    const [r, g, b] = nodeColour(c.name) ?? OTHER_COLOUR
    R.push(r); G.push(g); B.push(b); A.push(255); I.push(c.index); labels.push(c.name)
  }
  return { R, G, B, A, I, labels }
}

function robustPetRange(): void {
  const pet = nv.volumes[1]
  if (!pet) return
  // SUV: below 1.5 transparent (blood pool and soft tissue), full colour from the volume's robust maximum
  pet.cal_min = 1.5
  pet.cal_max = Math.max(4, (pet.robust_max as number | undefined) ?? 10)
  nv.updateGLVolume()
}

function applyWindow(name: string): void {
  const w = WINDOWS[name]!
  const vol = nv.volumes[0]
  if (!vol) return
  vol.cal_min = w.level - w.width / 2
  vol.cal_max = w.level + w.width / 2
  nv.updateGLVolume()
  document.querySelectorAll('[data-window]').forEach((b) => b.classList.toggle('active', (b as HTMLElement).dataset.window === name))
}

// ------------------------------------------------------------------ table

const fmt = (x: unknown, digits: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–')

function renderTable(): void {
  const body = $('#node-table tbody')
  body.replaceChildren()
  for (const node of state.nodes) {
    const d = state.decisions.get(node.id) ?? { decision: 'unreviewed' as Decision }
    const cls = d.class_index ?? node.class_index
    const tr = document.createElement('tr')
    tr.dataset.id = String(node.id)
    tr.className = [d.decision, node.id === state.selected ? 'selected' : '', node.id === state.hovered ? 'hover' : ''].join(' ')
    const colour = nodeColour(classNameOf(cls)) ?? OTHER_COLOUR
    const options = state.classes.map((c) => `<option value="${c.index}"${c.index === cls ? ' selected' : ''}>${c.name.replace(/_node$/, '')}</option>`).join('')
    tr.innerHTML = `<td>${node.id}</td>`
      + `<td><span class="swatch" style="background:rgb(${colour.join(',')})"></span><select class="cls" aria-label="class of node ${node.id}">${options}</select></td>`
      + `<td>${fmt(node.probability_malignant !== undefined && cls === 2 ? node.probability_malignant : node.score_max, 2)}</td>`
      + `<td>${fmt(node.short_axis_mm, 1)}</td><td>${fmt(node.volume_ml, 2)}</td><td>${fmt(node.suv_max, 1)}</td><td>${fmt(node.entropy, 2)}</td>`
      + `<td><button class="accept" title="accept">✓</button> <button class="reject" title="reject (delete from the labels)">✗</button></td>`
    body.append(tr)
  }
  $('#no-nodes').hidden = state.nodes.length > 0
}

function classNameOf(index: number): string {
  return state.classes.find((c) => c.index === index)?.name ?? 'node'
}

function rowOf(el: EventTarget | null): number {
  const tr = (el as HTMLElement | null)?.closest('tr')
  return tr?.dataset.id ? Number(tr.dataset.id) : 0
}

/** Centres every view on a node: its centre (LPS mm in nodes.json) as Niivue's RAS mm. */
function gotoNode(id: number): void {
  const node = state.nodes.find((n) => n.id === id)
  if (!node?.centre_mm) return
  const [x, y, z] = node.centre_mm
  const frac = nv.mm2frac([-x, -y, z])
  nv.scene.crosshairPos = frac
  nv.drawScene()
  nv.createOnLocationChange()
  state.selected = id
  renderTable()
}

function pushUndo(drawing: boolean): void {
  state.undo.push({ decisions: [...state.decisions].map(([k, v]) => [k, { ...v }]), drawing })
}

/** Writes a class value into every drawing voxel of a node (0 removes it; a class keeps erased voxels erased). */
function paintNode(id: number, value: number, all = false): void {
  const bitmap = nv.drawBitmap!
  const inst = state.instancesRas
  for (let j = 0; j < inst.length; j++) if (inst[j] === id && (value === 0 || all || bitmap[j]! > 0)) bitmap[j] = value
  nv.drawAddUndoBitmap()
  nv.refreshDrawing(true)
}

function decide(id: number, decision: Decision): void {
  const d = state.decisions.get(id) ?? { decision: 'unreviewed' as Decision }
  if (d.decision === decision) return
  const node = state.nodes.find((n) => n.id === id)!
  const drawing = decision === 'rejected' || d.decision === 'rejected'
  pushUndo(drawing)
  state.decisions.set(id, { ...d, decision })
  if (decision === 'rejected') paintNode(id, 0)
  else if (d.decision === 'rejected') paintNode(id, d.class_index ?? node.class_index, true) // un-rejected: its voxels come back
  renderTable()
}

function setClass(id: number, cls: number): void {
  const d = state.decisions.get(id) ?? { decision: 'unreviewed' as Decision }
  pushUndo(d.decision !== 'rejected')
  state.decisions.set(id, { ...d, class_index: cls })
  if (d.decision !== 'rejected') paintNode(id, cls)
  renderTable()
}

function undo(): void {
  const last = state.undo.pop()
  if (!last) {
    status('nothing to undo')
    return
  }
  state.decisions = new Map(last.decisions)
  if (last.drawing) nv.drawUndo()
  renderTable()
}

function setTool(tool: 'view' | 'draw' | 'erase'): void {
  state.tool = tool
  document.querySelectorAll('[data-tool]').forEach((b) => b.classList.toggle('active', (b as HTMLElement).dataset.tool === tool))
  if (tool === 'view') {
    nv.setDrawingEnabled(false)
    return
  }
  const node = state.nodes.find((n) => n.id === state.selected)
  const cls = tool === 'erase' ? 0 : (node ? state.decisions.get(node.id)?.class_index ?? node.class_index : state.classes[0]?.index ?? 1)
  nv.setPenValue(cls, false)
  nv.opts.penSize = Number(($('#pen-size') as HTMLInputElement).value) || 1
  nv.setDrawingEnabled(true)
}

// ------------------------------------------------------------------ save

/** The drawing in file voxel order (what the server's grid holds). */
function labelsInFileOrder(): Uint8Array {
  const bitmap = nv.drawBitmap!
  const out = new Uint8Array(bitmap.length)
  forEachRasVoxel((j, f) => { out[f] = bitmap[j]! })
  return out
}

async function save(): Promise<void> {
  if (!state.session?.case) throw new Error('nothing to save: no scan is open on the server')
  const decisions = Object.fromEntries([...state.decisions].map(([id, d]) => [String(id), d]))
  const body = encodeSparse({ decisions }, labelsInFileOrder())
  status('saving…')
  const r = await api<{ out: string; files: string[]; nodes: number; rejected: number }>('/api/save', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body })
  $('#save-result').textContent = `saved ${r.nodes} node(s), ${r.rejected} rejected, to ${r.out}: ${r.files.map((f) => f.split('/').pop()).join(', ')}`
  status('saved')
  ;(window as unknown as { nodalView: { lastSave: unknown } }).nodalView.lastSave = r
}

// ------------------------------------------------------------------ inference

let worker: Worker | null = null

async function runInBrowser(): Promise<void> {
  if (!state.session?.model) throw new Error('no model: start nodal view with --model')
  // the worker gets its own bytes, moved rather than cloned (a dropped file's bytes stay with the page)
  const scan = state.localScan && state.scanBytes ? state.scanBytes.slice(0) : await (await fetch(`/data/scan.nii?v=${state.session.version}`)).arrayBuffer()
  const pet = state.session.case?.pet && state.session.model.acceptsPet ? await (await fetch(`/data/pet.nii?v=${state.session.version}`)).arrayBuffer() : null
  worker ??= new Worker('/app/worker.js', { type: 'module' })
  const threads = Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 16))
  const progress = $('#progress') as HTMLProgressElement
  progress.hidden = false
  progress.value = 0
  const result = await new Promise<Extract<WorkerMessage, { type: 'result' }>>((resolve, reject) => {
    worker!.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const m = e.data
      if (m.type === 'progress') {
        progress.max = Math.max(1, m.total)
        progress.value = m.done
        status(`${m.stage}: ${m.done}/${m.total}`)
      } else if (m.type === 'status') status(m.text)
      else if (m.type === 'error') reject(new Error(m.message))
      else resolve(m)
    }
    worker!.onerror = (e) => reject(new Error(e.message || 'the inference worker failed'))
    const req: RunRequest = { type: 'run', scan, pet, modelBase: '/model/', wasmBase: '/ort/', threads }
    worker!.postMessage(req, [scan, ...(pet ? [pet] : [])])
  })
  progress.hidden = true
  showResult(result.labels, result.instances, result.nodes as NodeRow[], result.classes)
  if (state.session.case) {
    // the server keeps the result too: a save then starts from it (node ids, scores, measurements)
    const body = encodeSparse({ classes: result.classes, nodes: result.nodes }, result.labels, result.instances)
    state.session = await api<Session>('/api/result', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body })
  }
  status(`model in the page (${result.backend}): ${result.nodes.length} node(s) in ${result.seconds.toFixed(1)} s`)
  ;(window as unknown as { nodalView: { lastRun: unknown } }).nodalView.lastRun = {
    seconds: result.seconds, timings: result.timings, backend: result.backend, nodes: result.nodes.length, warnings: result.warnings,
  }
}

async function runOnServer(): Promise<void> {
  status('running the model on the server…')
  const progress = $('#progress') as HTMLProgressElement
  progress.hidden = false
  progress.removeAttribute('value')
  try {
    const s = await api<Session & { seconds: number }>('/api/predict', { method: 'POST' })
    state.session = s
    await loadLabels(s)
    status(`model on the server: ${state.nodes.length} node(s) in ${s.seconds.toFixed(1)} s`)
  } finally {
    progress.hidden = true
  }
}

// ------------------------------------------------------------------ opening dropped data

async function openDropped(data: DataTransfer): Promise<void> {
  const entries = [...data.items].map((i) => i.webkitGetAsEntry?.() ?? null).filter((e): e is FileSystemEntry => e !== null)
  if (entries.length === 1 && entries[0]!.isFile) return openNifti(await new Promise<File>((ok, fail) => (entries[0] as FileSystemFileEntry).file(ok, fail)))
  if (entries.length === 0 && data.files.length === 1) return openNifti(data.files[0]!) // no entry API (e.g. a synthetic drop)
  if (entries.length === 0) throw new Error('drop a NIfTI file (.nii, .nii.gz) or a DICOM folder')
  return openDicomFolder(entries)
}

/** A NIfTI file (dropped or chosen): shown from its own bytes at once, and uploaded so the server can save and predict. */
async function openNifti(file: File): Promise<void> {
  if (!/\.nii(\.gz)?$/i.test(file.name)) throw new Error(`${file.name}: not a NIfTI file (.nii, .nii.gz); open a DICOM series as a folder`)
  const bytes = await file.arrayBuffer()
  status(`opening ${file.name}…`)
  await nv.loadFromArrayBuffer(bytes.slice(0), file.name)
  while (nv.volumes.length > 1) nv.removeVolume(nv.volumes[1]!)
  state.scanBytes = bytes
  applyWindow('soft')
  const dims = nv.back!.hdr!.dims!
  const voxels = dims[1]! * dims[2]! * dims[3]!
  showResult(new Uint8Array(voxels), new Uint16Array(voxels), [], [{ index: 0, name: 'background' }, { index: 1, name: 'benign_node' }, { index: 2, name: 'malignant_node' }])
  document.body.classList.remove('empty')
  const s = await api<Session>('/api/open', { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-file-name': file.name }, body: bytes })
  state.session = s
  state.localScan = true
  $('#case-name').textContent = s.case?.name ?? file.name
  $('#pet-control').hidden = true
  status(`${file.name} open`)
}

/** A dropped DICOM folder: its entries walked (a directory reader gives its children in batches until an empty one), then uploaded. */
async function openDicomFolder(entries: FileSystemEntry[]): Promise<void> {
  const files: File[] = []
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      files.push(await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail)))
      return
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader()
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail))
      if (batch.length === 0) break
      for (const e of batch) await walk(e)
    }
  }
  for (const e of entries) await walk(e)
  return uploadDicomFiles(files, entries[0]!.name)
}

/** A DICOM folder's files (dropped or chosen): zipped here, read by nodal on the server, shown as the NIfTI it returns. */
async function uploadDicomFiles(files: File[], name: string): Promise<void> {
  if (files.length === 0) throw new Error(`${name || 'the folder'}: no files in it`)
  const zipped: Record<string, Uint8Array> = {}
  for (let n = 0; n < files.length; n++) zipped[`f${n}`] = new Uint8Array(await files[n]!.arrayBuffer())
  status(`uploading ${files.length} DICOM file(s)…`)
  const zip = zipSync(zipped, { level: 0 })
  await api<Session>('/api/open-dicom', { method: 'POST', headers: { 'content-type': 'application/zip', 'x-file-name': name }, body: zip })
  await loadSession()
}

/** The "Open" inputs: a NIfTI file, or a folder (webkitdirectory) read as a DICOM series, as if dropped. */
async function openChosen(input: HTMLInputElement): Promise<void> {
  const files = [...(input.files ?? [])]
  input.value = '' // the same file or folder can be chosen again
  if (files.length === 0) return
  if (!input.webkitdirectory) return openNifti(files[0]!)
  // webkitRelativePath is "<folder>/<path inside it>": the folder's name names the case
  const name = files[0]!.webkitRelativePath.split('/')[0] || 'dicom'
  return uploadDicomFiles(files, name)
}

// ------------------------------------------------------------------ wiring

function guard(f: () => Promise<void> | void): () => Promise<void> {
  return async () => {
    if (state.busy) return
    state.busy = true
    try {
      await f()
    } catch (e) {
      status((e as Error).message, true)
    } finally {
      state.busy = false
    }
  }
}

function wire(): void {
  $('#layout-select').addEventListener('change', (e) => {
    const v = (e.target as HTMLSelectElement).value
    nv.setSliceType(v === 'axial' ? SLICE_TYPE.AXIAL : v === 'coronal' ? SLICE_TYPE.CORONAL : v === 'sagittal' ? SLICE_TYPE.SAGITTAL : v === 'render' ? SLICE_TYPE.RENDER : SLICE_TYPE.MULTIPLANAR)
  })
  document.querySelectorAll('[data-window]').forEach((b) => b.addEventListener('click', () => applyWindow((b as HTMLElement).dataset.window!)))
  document.querySelectorAll('[data-tool]').forEach((b) => b.addEventListener('click', () => setTool((b as HTMLElement).dataset.tool as 'view')))
  $('#overlay-opacity').addEventListener('input', (e) => nv.setDrawOpacity(Number((e.target as HTMLInputElement).value)))
  $('#pet-opacity').addEventListener('input', (e) => { if (nv.volumes[1]) nv.setOpacity(1, Number((e.target as HTMLInputElement).value)) })
  $('#pen-size').addEventListener('change', () => setTool(state.tool))
  $('#undo').addEventListener('click', () => undo())
  $('#save').addEventListener('click', guard(save))
  $('#run-browser').addEventListener('click', guard(runInBrowser))
  $('#run-server').addEventListener('click', guard(runOnServer))
  for (const [button, input] of [['#open-nifti', '#open-nifti-input'], ['#open-folder', '#open-folder-input']] as const) {
    const el = $(input) as HTMLInputElement
    $(button).addEventListener('click', () => el.click())
    el.addEventListener('change', guard(() => openChosen(el)))
  }
  const body = $('#node-table tbody')
  body.addEventListener('click', (e) => {
    const id = rowOf(e.target)
    if (!id) return
    const t = e.target as HTMLElement
    if (t.classList.contains('accept')) decide(id, state.decisions.get(id)?.decision === 'accepted' ? 'unreviewed' : 'accepted')
    else if (t.classList.contains('reject')) decide(id, state.decisions.get(id)?.decision === 'rejected' ? 'unreviewed' : 'rejected')
    else if (t.tagName !== 'SELECT' && t.tagName !== 'OPTION') gotoNode(id)
  })
  body.addEventListener('change', (e) => {
    const t = e.target as HTMLSelectElement
    if (t.classList.contains('cls')) setClass(rowOf(t), Number(t.value))
  })
  nv.onDrawingChanged = (action: string) => {
    if (action === 'draw') pushUndo(true)
  }
  const canvas = $('#gl') as HTMLCanvasElement
  canvas.addEventListener('mousemove', (e) => {
    if (!nv.back || state.instancesRas.length === 0) return
    const rect = canvas.getBoundingClientRect()
    const dpr = window.devicePixelRatio || 1
    const frac = nv.canvasPos2frac([(e.clientX - rect.left) * dpr, (e.clientY - rect.top) * dpr])
    const id = frac[0]! < 0 ? 0 : nodeAtFrac(frac as unknown as number[])
    if (id !== state.hovered) {
      state.hovered = id
      document.querySelectorAll('#node-table tbody tr').forEach((tr) => tr.classList.toggle('hover', Number((tr as HTMLElement).dataset.id) === id))
      if (id) document.querySelector(`#node-table tbody tr[data-id="${id}"]`)?.scrollIntoView({ block: 'nearest' })
    }
  })
  const viewer = $('#viewer')
  viewer.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging') })
  viewer.addEventListener('dragleave', () => document.body.classList.remove('dragging'))
  viewer.addEventListener('drop', (e) => {
    e.preventDefault()
    document.body.classList.remove('dragging')
    if (e.dataTransfer) void guard(() => openDropped(e.dataTransfer!))()
  })
}

/** The node id under a fractional position (Niivue's 0..1 texture coordinates, RAS). */
function nodeAtFrac(frac: number[]): number {
  const dims = nv.back!.dimsRAS!
  const ijk = [0, 1, 2].map((d) => Math.min(dims[d + 1]! - 1, Math.max(0, Math.floor(frac[d]! * dims[d + 1]!))))
  return state.instancesRas[ijk[0]! + dims[1]! * (ijk[1]! + dims[2]! * ijk[2]!)] ?? 0
}

const ready = (async () => {
  wire()
  await nv.attachTo('gl')
  nv.setSliceType(SLICE_TYPE.MULTIPLANAR)
  await loadSession()
})().catch((e) => {
  status((e as Error).message, true)
  throw e
})

;(window as unknown as { nodalView: unknown }).nodalView = { nv, state, ready, gotoNode, decide, setClass, setTool, undo, save: guard(save), runInBrowser, runOnServer, labelsInFileOrder }
