/**
 * Neck (thoracic inlet to the mandible): cervical spine with posterior muscles, larynx and trachea,
 * oropharynx, thyroid, sternocleidomastoid muscles, carotid arteries that divide into internal and
 * external branches, internal and external jugular veins, vertebral arteries, submandibular and
 * parotid glands, mandible. Stations: cervical levels Ib, IIa, IIb, III, IV, V and VI.
 */
import { Vec3 } from '../../volume/volume.js'
import { Section } from '../canvas.js'
import { growTree, paintBranches, paintVessel } from '../geometry.js'
import { paintBodyWall, paintTable, paintOrgan, paintSpine, SiteModel, Station } from './site.js'

export const neck: SiteModel = {
  name: 'neck',
  fov: [260, 240, 170],
  paint(ctx) {
    const { canvas, rng, tissue } = ctx
    const W = rng.uniform(58, 70), A = rng.uniform(55, 65), P = rng.uniform(58, 68)
    const fat = rng.uniform(4, 12)
    const body: Section[] = [
      { z: -90, cx: 0, cy: 0, rx: W * 1.9, ryAnt: A * 1.3, ryPost: P * 1.3 },
      { z: -60, cx: 0, cy: 0, rx: W * 1.2, ryAnt: A * 1.05, ryPost: P * 1.05 },
      { z: 20, cx: 0, cy: 0, rx: W, ryAnt: A, ryPost: P },
      { z: 55, cx: 0, cy: -5, rx: W * 1.15, ryAnt: A * 1.35, ryPost: P },
      { z: 90, cx: 0, cy: -5, rx: W * 1.25, ryAnt: A * 1.4, ryPost: P * 1.05 },
    ]
    paintTable(ctx, body)
    const inner = paintBodyWall(ctx, body, fat, 0)
    canvas.paint({ kind: 'profile', sections: inner }, tissue.fat)
    const sY = 12, r = 9
    // posterior neck muscles around the spine, strap muscles in front of the airway
    // deep paraspinal, levator scapulae and trapezius, with fat planes between them
    for (const side of [-1, 1]) {
      const muscle = (cx: number, cy: number, rx: number, ry: number) =>
        canvas.paint({ kind: 'profile', sections: [{ z: -90, cx: side * cx * 1.3, cy, rx: rx * 1.3, ryAnt: ry, ryPost: ry }, { z: 90, cx: side * cx, cy, rx, ryAnt: ry, ryPost: ry }] }, tissue.muscle)
      muscle(15, sY + 30, 13, 17)
      muscle(W * 0.5, sY + 10, 11, 13)
      muscle(W * 0.38, P - fat - 12, W * 0.36, 8)
    }
    paintSpine(ctx, 0, sY, -90, 90, r, 17)
    const airY = -A * 0.42
    paintVessel(canvas, [[0, airY, -95], [0, airY, 20], [0, airY + 8, 40], [0, sY - 22, 60], [0, sY - 20, 95]], 11, 12, tissue.soft)
    paintVessel(canvas, [[0, airY, -95], [0, airY, 20], [0, airY + 8, 40], [0, sY - 22, 60], [0, sY - 20, 95]], 8, 9, tissue.airway)
    paintVessel(canvas, [[0, airY - 4, -10], [0, airY - 4, 25]], 15, 15, tissue.cartilage)
    paintVessel(canvas, [[0, airY - 4, -12], [0, airY - 2, 27]], 12, 12, tissue.soft)
    paintVessel(canvas, [[0, airY, -12], [0, airY + 2, 27]], 7, 8, tissue.airway)
    paintVessel(canvas, [[4, sY - 16, -95], [2, sY - 16, 10]], 6, 6, tissue.muscle)
    for (const side of [-1, 1]) {
      paintOrgan(ctx, [side * 16, airY + 2, -42], [9, 11, 22], tissue.thyroid)
      canvas.paint({ kind: 'capsule', a: [side * 20, airY - 12, -80], b: [side * 12, airY - 10, 10], ra: 4, rb: 3 }, tissue.muscle)
      canvas.paint({ kind: 'capsule', a: [side * W * 0.85, P * 0.1, 85], b: [side * 22, -A * 0.78, -85], ra: 9, rb: 8 }, tissue.muscle)
      const ccaX = side * 22, ccaY = -A * 0.12
      const bifZ = rng.uniform(5, 25)
      paintVessel(canvas, [[side * 10, ccaY + 4, -95], [ccaX, ccaY, -40], [ccaX, ccaY, bifZ]], 4.5, 4.5, tissue.artery)
      paintVessel(canvas, [[ccaX, ccaY, bifZ], [ccaX + side * 2, ccaY + 8, bifZ + 30], [ccaX, ccaY + 14, 95]], 4, 3.5, tissue.artery)
      const eca = paintVessel(canvas, [[ccaX, ccaY, bifZ], [ccaX - side * 4, ccaY - 8, bifZ + 25], [side * W * 0.6, -A * 0.3, 95]], 3, 2.5, tissue.artery)
      const inNeck = (p: Vec3) => Math.abs(p[0]) < W * 0.8 && p[1] > -A * 1.1 && p[1] < sY && p[2] < 95 && p[2] > bifZ
      paintBranches(canvas, growTree(rng, eca[4], [0, -1, 0.3], 2, 0.8, 40, inNeck), tissue.artery)
      const ijR = side < 0 ? rng.uniform(7, 11) : rng.uniform(5, 9)
      paintVessel(canvas, [[side * 18, ccaY - 6, -95], [side * 34, ccaY + 2, -40], [side * 34, ccaY + 6, 40], [side * 32, ccaY + 18, 95]], ijR, ijR * 0.9, tissue.vein)
      paintVessel(canvas, [[side * W * 0.8, -A * 0.2, -90], [side * W * 0.8, -A * 0.1, 90]], 2.5, 2.5, tissue.vein)
      paintVessel(canvas, [[side * 14, sY + 2, -95], [side * 14, sY + 2, 95]], 2, 2, tissue.artery)
      paintOrgan(ctx, [side * W * 0.55, -A * 0.6, 55], [15, 12, 14], tissue.gland)
      paintOrgan(ctx, [side * W * 0.85, -A * 0.05, 78], [13, 20, 20], tissue.parotid)
    }
    const mandible: Vec3[] = [[-W * 0.85, -A * 0.05, 88], [-W * 0.7, -A * 0.8, 62], [0, -A * 1.22, 52], [W * 0.7, -A * 0.8, 62], [W * 0.85, -A * 0.05, 88]]
    paintVessel(canvas, mandible, 7, 7, tissue.cortex)
    paintVessel(canvas, mandible, 4.5, 4.5, tissue.marrow)
    const stations: Station[] = []
    for (const side of [-1, 1]) {
      const st = (name: string, anchor: Vec3, spread: Vec3) => stations.push({ name: `${name}${side < 0 ? 'R' : 'L'}`, anchor, spread })
      st('Ib', [side * W * 0.4, -A * 0.75, 48], [10, 8, 10])
      st('IIa', [side * 28, -A * 0.28, 40], [6, 6, 18])
      st('IIb', [side * 40, -A * 0.02 + 8, 45], [6, 6, 15])
      st('III', [side * 40, -A * 0.25, 0], [6, 6, 15])
      st('IV', [side * 38, -A * 0.25, -55], [6, 6, 15])
      st('V', [side * W * 0.72, P * 0.2, 0], [8, 10, 40])
      st('VI', [side * 10, airY - 14, -55], [4, 4, 15])
    }
    return stations
  },
}
