/**
 * One colour scheme for node classes everywhere nodal draws or writes them (phantom previews, report
 * thumbnails, RTSTRUCT ROI Display Color, DICOM-SEG recommended display colour): malignant red, benign
 * green, any other node yellow.
 */
export type Rgb = [number, number, number]

export const MALIGNANT_COLOUR: Rgb = [255, 40, 40]
export const BENIGN_COLOUR: Rgb = [40, 230, 60]
export const OTHER_COLOUR: Rgb = [255, 220, 0]

/**
 * The class colour for a class or structure name (GTVn and malignant... red, LN and benign... green), or
 * null. `shade` k > 0 darkens it a step (six steps, then again), so that several structures of one class
 * stay told apart in a planning system's structure list.
 */
export function nodeColour(name: string, shade = 0): Rgb | null {
  const n = name.toLowerCase()
  const base = /malignan|metasta|^gtv/.test(n) ? MALIGNANT_COLOUR : /benign|^ln($|_)|lymph|node/.test(n) ? BENIGN_COLOUR : null
  if (!base) return null
  const f = 1 - 0.12 * (shade % 6)
  return base.map((c) => Math.round(c * f)) as Rgb
}
