/**
 * NRRD (.nrrd, .nhdr) and MetaImage (.mha, .mhd) through ITK's own readers and writers,
 * compiled to WebAssembly (@itk-wasm/image-io). ITK works in LPS, as nodal does, so geometry
 * passes through unchanged.
 */
import { readImageNode, writeImageNode } from '@itk-wasm/image-io'
import type { Image } from 'itk-wasm'
import { badInput } from '../errors.js'
import { Axes, DType, Vec3, Volume, VoxelArray } from '../volume/volume.js'

export function isItkPath(path: string): boolean {
  return /\.(nrrd|nhdr|mha|mhd)$/i.test(path)
}

const DTYPES = new Set<string>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'])

/**
 * Runs an itk-wasm call with console.log/error muted: on a failing pipeline itk-wasm prints
 * "Exception while running pipeline" and raw stdout/stderr before throwing. We turn the throw into
 * a one-line NodalError instead, so those lines are noise for a user.
 */
export async function quietly<T>(call: () => Promise<T>): Promise<T> {
  const { log, error } = console
  console.log = () => {}
  console.error = () => {}
  try {
    return await call()
  } finally {
    console.log = log
    console.error = error
  }
}

export async function readItkImage(file: string): Promise<Volume> {
  let img: Image
  try {
    img = await quietly(() => readImageNode(file))
  } catch (e) {
    throw badInput(file, `ITK could not read it (${describe(e)})`)
  }
  return volumeFromItkImage(file, img)
}

export function volumeFromItkImage(file: string, img: Image): Volume {
  const { componentType, components } = img.imageType
  if (components !== 1) throw badInput(file, `has ${components} components per voxel; nodal reads scalar images`)
  if (!DTYPES.has(componentType)) throw badInput(file, `voxel type ${componentType} is not supported`)
  if (!img.data) throw badInput(file, 'has no voxel data')
  const dim = img.imageType.dimension
  if (dim < 2 || dim > 3) throw badInput(file, `is ${dim}-dimensional; nodal reads 2D and 3D images`)
  const shape: Vec3 = [img.size[0], img.size[1], dim === 3 ? img.size[2] : 1]
  const spacing: Vec3 = [img.spacing[0], img.spacing[1], dim === 3 ? img.spacing[2] : 1]
  const origin: Vec3 = [img.origin[0], img.origin[1], dim === 3 ? img.origin[2] : 0]
  // itk-wasm serialises ITK's direction matrix row by row: direction[r*dim + c] = D[r][c],
  // and column c of D is the LPS direction of voxel axis c.
  const D = (r: number, c: number) => (r < dim && c < dim ? img.direction[r * dim + c] : r === c ? 1 : 0)
  const axes = [0, 1, 2].map((c) => [0, 1, 2].map((r) => D(r, c))) as Axes
  return new Volume(img.data as VoxelArray, shape, spacing, origin, axes, {})
}

export function itkImageFromVolume(vol: Volume): Image {
  const direction = new Float64Array(9)
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) direction[r * 3 + c] = vol.axes[c][r]
  return {
    imageType: { dimension: 3, componentType: vol.dtype as DType, pixelType: 'Scalar', components: 1 },
    name: 'image',
    origin: [...vol.origin],
    spacing: [...vol.spacing],
    direction,
    size: [...vol.shape],
    metadata: new Map(),
    data: vol.data,
  } as unknown as Image
}

export async function writeItkImage(vol: Volume, file: string): Promise<void> {
  await quietly(() => writeImageNode(itkImageFromVolume(vol), file, { useCompression: true }))
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0]
  return 'not a valid file of this format'
}
