/**
 * Axilla: the upper chest (lungs, mediastinum, ribs, scapulae) with both arms at the sides and the
 * axillary fat between arm and chest wall, bounded by pectoralis major and minor in front and
 * latissimus dorsi behind; axillary artery and vein running from under the clavicle into the arm,
 * with the lateral thoracic and thoracodorsal branches. Stations: axillary levels I, II and III and
 * the interpectoral (Rotter) nodes.
 */
import { Vec3 } from '../../volume/volume.js'
import { insetProfile, Section } from '../canvas.js'
import { paintVessel } from '../geometry.js'
import { paintThorax, paintRibCage } from './chest.js'
import { paintBodyWall, paintTable, SiteModel, Station } from './site.js'

export const axilla: SiteModel = {
  name: 'axilla',
  fov: [500, 320, 200],
  paint(ctx) {
    const { canvas, rng, tissue } = ctx
    const W = rng.uniform(135, 155), A = rng.uniform(100, 120), P = rng.uniform(95, 110)
    const fat = rng.uniform(8, 25), muscle = rng.uniform(6, 9)
    const armX = W + rng.uniform(38, 50), armR = rng.uniform(40, 50)
    const body: Section[] = [
      { z: -110, cx: 0, cy: 0, rx: W, ryAnt: A, ryPost: P },
      { z: 110, cx: 0, cy: 0, rx: W * 0.95, ryAnt: A * 0.85, ryPost: P * 0.95 },
    ]
    paintTable(ctx, body)
    // the axillary pad: skin and fat bridging chest wall and arm below the shoulder
    for (const side of [-1, 1]) {
      const bridge: Section[] = [
        { z: -110, cx: side * (W + 10), cy: 10, rx: 20, ryAnt: 40, ryPost: 50 },
        { z: 40, cx: side * (W + 18), cy: 0, rx: 45, ryAnt: A * 0.75, ryPost: P * 0.8 },
        { z: 110, cx: side * (W + 20), cy: 0, rx: 55, ryAnt: A * 0.8, ryPost: P * 0.85 },
      ]
      canvas.paint({ kind: 'profile', sections: bridge }, tissue.skin)
      canvas.paint({ kind: 'profile', sections: insetProfile(bridge, 2) }, tissue.fat)
      const arm: Section[] = [
        { z: -110, cx: side * armX, cy: 5, rx: armR * 0.85, ryAnt: armR * 0.9, ryPost: armR * 0.9 },
        { z: 110, cx: side * armX, cy: 0, rx: armR, ryAnt: armR, ryPost: armR },
      ]
      canvas.paint({ kind: 'profile', sections: arm }, tissue.skin)
      canvas.paint({ kind: 'profile', sections: insetProfile(arm, 2) }, tissue.fat)
      canvas.paint({ kind: 'profile', sections: insetProfile(arm, 2 + fat * 0.6) }, tissue.muscle)
      canvas.paint({ kind: 'capsule', a: [side * armX, 0, -120], b: [side * (armX - 4), -4, 120], ra: 11, rb: 13 }, tissue.cortex)
      canvas.paint({ kind: 'capsule', a: [side * armX, 0, -120], b: [side * (armX - 4), -4, 120], ra: 7, rb: 9 }, tissue.marrow)
    }
    const wall = paintBodyWall(ctx, body, fat, muscle)
    const lung = insetProfile(wall, 8).map((s) => ({ ...s, ryPost: s.ryPost - 18, ryAnt: s.ryAnt - 4 }))
    const thorax = paintThorax(ctx, W, lung, P - fat - 72)
    paintRibCage(ctx, lung, thorax.sternumBack, W, P, 125)
    const stations: Station[] = []
    for (const side of [-1, 1]) {
      const front = -A + fat + 2
      // pectoralis major from sternum to humerus, pectoralis minor beneath it, latissimus behind the axilla
      paintVessel(canvas, [[side * 25, front + 8, 40], [side * W * 0.6, front + 10, 50], [side * (armX - 25), -A * 0.45, 70], [side * (armX - 10), -20, 85]], 9, 10, tissue.muscle)
      paintVessel(canvas, [[side * W * 0.45, front + 26, 20], [side * W * 0.75, front + 28, 55], [side * (W + 5), -A * 0.35, 95]], 6, 5, tissue.muscle)
      paintVessel(canvas, [[side * W * 0.8, P * 0.55, -110], [side * (W + 8), P * 0.45, -20], [side * (armX - 20), P * 0.3, 60]], 10, 9, tissue.muscle)
      const artery: Vec3[] = [[side * 60, -A * 0.3, 118], [side * (W - 10), -A * 0.2, 80], [side * (W + 20), -12, 40], [side * (armX - armR * 0.5), -10, -30], [side * (armX - armR * 0.6), -8, -110]]
      paintVessel(canvas, artery, 4.5, 3.5, tissue.artery)
      paintVessel(canvas, artery.map(([x, y, z]) => [x - side * 3, y - 9, z - 4] as Vec3), 6.5, 5, tissue.vein)
      paintVessel(canvas, [[side * (W - 5), -A * 0.28, 75], [side * (W - 2), -A * 0.45, 20], [side * (W - 8), -A * 0.5, -100]], 2, 1.5, tissue.artery)
      paintVessel(canvas, [[side * (W + 15), 0, 45], [side * (W + 5), P * 0.3, 0], [side * (W - 2), P * 0.4, -100]], 2.5, 2, tissue.vein)
      const tag = side < 0 ? 'R' : 'L'
      stations.push(
        { name: `axillary I ${tag}`, anchor: [side * (W + 18), 0, 0], spread: [12, 25, 40] },
        { name: `axillary II ${tag}`, anchor: [side * (W + 2), -A * 0.3, 55], spread: [10, 12, 20] },
        { name: `axillary III ${tag}`, anchor: [side * (W * 0.55), -A * 0.55, 95], spread: [15, 8, 10] },
        { name: `interpectoral ${tag}`, anchor: [side * W * 0.65, front + 18, 40], spread: [15, 3, 20] },
      )
    }
    return stations
  },
}
