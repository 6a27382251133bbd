/**
 * Abdomen (about T11 to L4): liver, gallbladder, spleen, kidneys, pancreas, stomach, small bowel and
 * colon with wall and content, aorta with coeliac trunk, SMA and its mesenteric branches, renal
 * vessels, IVC and portal vein, lumbar spine with psoas and paraspinal muscles.
 * Stations: para-aortic, aortocaval, retro-/precaval, coeliac, portocaval, mesenteric.
 */
import { Vec3 } from '../../volume/volume.js'
import { insetProfile, Section, sectionAt } from '../canvas.js'
import { bowelPath, frameAlong, growTree, paintBranches, paintVessel } from '../geometry.js'
import { paintBodyWall, paintTable, paintBowel, paintOrgan, paintSpine, SiteModel, Station } from './site.js'

export const abdomen: SiteModel = {
  name: 'abdomen',
  fov: [400, 400, 220],
  paint(ctx) {
    const { canvas, rng, tissue } = ctx
    const W = rng.uniform(145, 175), A = rng.uniform(105, 135), P = rng.uniform(95, 110)
    const fat = rng.uniform(10, 38), muscle = rng.uniform(7, 11)
    const body: Section[] = [
      { z: -120, cx: 0, cy: 0, rx: W, ryAnt: A, ryPost: P },
      { z: 120, cx: 0, cy: 0, rx: W * 0.97, ryAnt: A * 0.92, ryPost: P },
    ]
    paintTable(ctx, body)
    const wall = paintBodyWall(ctx, body, fat, muscle)
    const cavity = insetProfile(wall, 2).map((s) => ({ ...s, ryPost: s.ryPost - 12 }))
    canvas.paint({ kind: 'profile', sections: cavity }, tissue.fat)
    const c = sectionAt(cavity, 0)
    const cRx = c.rx, cA = c.ryAnt
    const sY = P - fat - 72, r = 20
    // bowel first: the organs and vessels painted later push it aside
    const gut: Vec3 = [0, -cA * 0.3, -45]
    for (let loop = 0; loop < rng.int(8, 12); loop++) {
      const start: Vec3 = [rng.uniform(-0.6, 0.6) * cRx, gut[1] + rng.uniform(-25, 25), rng.uniform(-100, 10)]
      paintBowel(ctx, bowelPath(rng, start, rng.int(6, 12), 16, gut, [cRx * 0.75, cA * 0.55, 70]), rng.uniform(9, 13), rng.pick(['fluid', 'fluid', 'gas', 'stool'] as const))
    }
    const colonR = rng.uniform(16, 22)
    paintBowel(ctx, [[-cRx * 0.72, -5, -120], [-cRx * 0.75, -10, -30], [-cRx * 0.65, -cA * 0.35, 20], [0, -cA * 0.65, 15], [cRx * 0.65, -cA * 0.3, 40], [cRx * 0.78, 15, 0], [cRx * 0.76, 10, -120]].map((p) => p as Vec3), colonR, rng.pick(['stool', 'gas'] as const))
    // solid organs
    paintOrgan(ctx, [-cRx * 0.45, -cA * 0.05, 75], [cRx * 0.52, cA * 0.72, 70], tissue.liver, frameAlong([1, -0.25, 0.35]))
    paintOrgan(ctx, [-cRx * 0.32, -cA * 0.48, 10], [14, 14, 28], { ...tissue.csf, mr: 950 })
    paintOrgan(ctx, [cRx * 0.62, sY + 5, 65], [cRx * 0.18, 40, 55], tissue.spleen)
    paintOrgan(ctx, [cRx * 0.32, -cA * 0.3, 85], [48, 40, 42], tissue.bowelWall)
    paintOrgan(ctx, [cRx * 0.32, -cA * 0.3, 85], [44, 36, 38], tissue.bowelFluid)
    paintOrgan(ctx, [cRx * 0.32, -cA * 0.52, 110], [26, 14, 16], tissue.bowelGas)
    for (const side of [-1, 1]) {
      const centre: Vec3 = [side * cRx * 0.55, sY - 2, side < 0 ? -15 : -5]
      const axes = frameAlong([side * 0.35, -0.5, 0.1])
      paintOrgan(ctx, centre, [30, 24, 55], tissue.kidney, axes)
      paintOrgan(ctx, [centre[0] - side * 8, centre[1] - 6, centre[2]], [12, 9, 22], tissue.renalPelvis, axes)
    }
    // vessels
    const aorta: Vec3 = [12, sY - 34, 0], ivc: Vec3 = [-22, sY - 30, 0]
    const aR = rng.uniform(9, 12)
    paintVessel(canvas, [[aorta[0], aorta[1], 120], [aorta[0], aorta[1] + 2, -70], [aorta[0] - 2, aorta[1] + 4, -90]], aR, aR * 0.85, tissue.artery)
    for (const side of [-1, 1]) paintVessel(canvas, [[aorta[0] - 2, aorta[1] + 4, -90], [side * 32, sY - 26, -120]], aR * 0.65, aR * 0.6, tissue.artery)
    paintVessel(canvas, [[ivc[0], ivc[1] - 10, 120], [ivc[0], ivc[1], 20], [ivc[0], ivc[1], -85], [-40, sY - 22, -120]], 11, 10, tissue.vein)
    paintVessel(canvas, [[-10, sY - 30, -85], [35, sY - 20, -120]], 8, 8, tissue.vein)
    for (const side of [-1, 1]) {
      const hilum: Vec3 = [side * cRx * 0.42, sY - 12, side < 0 ? -12 : -2]
      paintVessel(canvas, [[aorta[0], aorta[1] + 4, 12], [(aorta[0] + hilum[0]) / 2, sY - 22, 8], hilum], 3.5, 3, tissue.artery)
      paintVessel(canvas, side < 0 ? [[ivc[0], ivc[1], 2], hilum] : [[ivc[0], ivc[1], 4], [aorta[0], aorta[1] - aR - 6, 4], hilum], 5, 5, tissue.vein)
    }
    const coeliac: Vec3 = [aorta[0], aorta[1] - 24, 72]
    paintVessel(canvas, [[aorta[0], aorta[1], 70], coeliac], 4, 4, tissue.artery)
    paintVessel(canvas, [coeliac, [-30, sY - 60, 75], [-cRx * 0.4, -cA * 0.2, 60]], 3, 2.5, tissue.artery)
    paintVessel(canvas, [coeliac, [30, sY - 40, 78], [60, sY - 30, 70], [cRx * 0.55, sY - 5, 68]], 3.5, 3, tissue.artery)
    const splenicVein: Vec3[] = [[cRx * 0.55, sY - 8, 62], [40, sY - 32, 55], [0, sY - 48, 45]]
    paintOrgan(ctx, [10, sY - 52, 52], [55, 12, 14], tissue.pancreas, frameAlong([1, 0.3, 0.2]))
    paintVessel(canvas, [...splenicVein, [-20, sY - 55, 50], [-cRx * 0.3, -cA * 0.1, 62]], 5, 7, tissue.vein)
    const sma: Vec3[] = [[aorta[0], aorta[1] - 4, 55], [aorta[0] - 2, aorta[1] - 30, 40], [4, -cA * 0.2, -10], [-5, -cA * 0.3, -80]]
    paintVessel(canvas, sma, 4.5, 2.5, tissue.artery)
    paintVessel(canvas, [[-6, -cA * 0.32, -80], [-12, -cA * 0.22, -10], [-10, sY - 50, 40]], 3, 6, tissue.vein)
    const mesentery = (p: Vec3) => Math.abs(p[0]) < cRx * 0.7 && p[1] < sY - 25 && p[1] > -cA * 0.8 && p[2] > -115 && p[2] < 40
    for (let b = 0; b < 10; b++) {
      const root: Vec3 = [4 - b * 0.5, -cA * 0.2 - b * 2, 10 - b * 9]
      paintBranches(canvas, growTree(rng, root, [rng.uniform(-1, 1), -rng.uniform(0.2, 1), rng.uniform(-0.6, 0.2)], rng.uniform(1.6, 2.4), 0.8, 30, mesentery), b % 2 ? tissue.artery : tissue.vein)
    }
    // spine and its muscles last: nothing lies in front of them but what we painted
    paintSpine(ctx, 0, sY, -120, 120, r, 32)
    for (const side of [-1, 1]) {
      canvas.paint({ kind: 'profile', sections: [{ z: -120, cx: side * 34, cy: sY + 46, rx: 26, ryAnt: 20, ryPost: 20 }, { z: 120, cx: side * 32, cy: sY + 44, rx: 24, ryAnt: 18, ryPost: 18 }] }, tissue.muscle)
      canvas.paint({ kind: 'profile', sections: [{ z: -120, cx: side * 48, cy: sY - 2, rx: 24, ryAnt: 20, ryPost: 18 }, { z: 0, cx: side * 36, cy: sY, rx: 17, ryAnt: 14, ryPost: 14 }, { z: 100, cx: side * 26, cy: sY, rx: 5, ryAnt: 5, ryPost: 5 }] }, tissue.muscle)
    }
    const st = (name: string, anchor: Vec3, spread: Vec3): Station => ({ name, anchor, spread })
    return [
      st('para-aortic', [aorta[0] + aR + 8, aorta[1] + 4, -30], [5, 8, 60]),
      st('aortocaval', [(aorta[0] + ivc[0]) / 2, aorta[1] - 2, -30], [3, 8, 60]),
      st('retrocaval', [ivc[0] - 4, ivc[1] + 16, -30], [6, 4, 40]),
      st('precaval', [ivc[0], ivc[1] - 18, -40], [8, 4, 40]),
      st('coeliac', [coeliac[0], coeliac[1] - 6, 78], [14, 8, 10]),
      st('portocaval', [-22, sY - 50, 62], [10, 8, 10]),
      st('mesenteric', [0, -cA * 0.35, -40], [cRx * 0.4, cA * 0.25, 50]),
    ]
  },
}
