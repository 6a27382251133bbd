/**
 * Pelvis (iliac crest to the pubic symphysis): iliac wings, sacrum, L5, acetabula and femoral heads,
 * pubic and ischial rami; gluteal, iliopsoas and obturator internus muscles; bladder, rectum,
 * sigmoid and small bowel, prostate or uterus; common, external and internal iliac arteries and
 * veins with branches. Stations: common, external and internal iliac, obturator, presacral, inguinal.
 */
import { Vec3 } from '../../volume/volume.js'
import { insetProfile, Section } from '../canvas.js'
import { bowelPath, frameAlong, growTree, paintBranches, paintVessel } from '../geometry.js'
import { paintBodyWall, paintTable, paintBowel, paintOrgan, paintSpine, SiteContext, SiteModel, Station } from './site.js'

export const pelvis: SiteModel = {
  name: 'pelvis',
  fov: [440, 360, 200],
  paint(ctx) {
    const { canvas, rng, tissue } = ctx
    const W = rng.uniform(160, 185), A = rng.uniform(100, 125), P = rng.uniform(95, 115)
    const fat = rng.uniform(12, 40), muscle = rng.uniform(6, 10)
    const body: Section[] = [
      { z: -110, cx: 0, cy: 5, rx: W * 1.02, ryAnt: A * 0.9, ryPost: P },
      { z: 110, cx: 0, cy: 0, rx: W * 0.95, ryAnt: A, ryPost: P * 0.95 },
    ]
    paintTable(ctx, body)
    const wall = paintBodyWall(ctx, body, fat, muscle)
    const cavity = insetProfile(wall, 2)
    canvas.paint({ kind: 'profile', sections: cavity }, tissue.fat)
    const cRx = W - fat - muscle - 4, cA = A - fat - muscle - 4
    const sacrumY = P - fat - 55
    // gluteal muscles behind the iliac wings and hips
    for (const side of [-1, 1]) {
      paintOrgan(ctx, [side * cRx * 0.62, sacrumY + 5, 10], [cRx * 0.32, 38, 120], tissue.muscle, frameAlong([side * 0.8, 0.6, 0]))
    }
    // bowel and pelvic organs
    const gut: Vec3 = [0, -cA * 0.3, 50]
    for (let loop = 0; loop < rng.int(5, 8); loop++) {
      paintBowel(ctx, bowelPath(rng, [rng.uniform(-0.4, 0.4) * cRx, -cA * 0.3, rng.uniform(20, 100)], rng.int(5, 10), 16, gut, [cRx * 0.55, cA * 0.5, 60]), rng.uniform(9, 12), rng.pick(['fluid', 'fluid', 'gas', 'stool'] as const))
    }
    const male = rng.chance(0.5)
    const bladderR: Vec3 = [rng.uniform(35, 55), rng.uniform(28, 42), rng.uniform(28, 45)]
    paintOrgan(ctx, [0, -cA * 0.45, -55], [bladderR[0] + 2.5, bladderR[1] + 2.5, bladderR[2] + 2.5], tissue.bowelWall)
    paintOrgan(ctx, [0, -cA * 0.45, -55], bladderR, tissue.bladder)
    if (male) paintOrgan(ctx, [0, -cA * 0.1, -95], [20, 16, 18], tissue.prostate)
    else paintOrgan(ctx, [0, -cA * 0.05, -25], [35, 25, 45], tissue.prostate, frameAlong([0, -0.4, 1]))
    paintBowel(ctx, [[0, sacrumY - 30, -110], [0, sacrumY - 26, -40], [5, sacrumY - 30, 10], [30, sacrumY - 40, 40], [40, -10, 60], [10, -20, 40]], rng.uniform(14, 20), rng.pick(['stool', 'gas'] as const))
    paintPelvicBones(ctx, cRx, cA, sacrumY)
    // iliac vessels: arteries with the veins behind and medial to them
    const stations: Station[] = []
    for (const side of [-1, 1]) {
      const bif: Vec3 = [side * 40, sacrumY - 50, 45]
      const femoral: Vec3 = [side * cRx * 0.55, -cA * 0.55, -100]
      const eia = paintVessel(canvas, [[side * 12, sacrumY - 55, 110], bif, [side * cRx * 0.45, -cA * 0.15, 0], [side * cRx * 0.55, -cA * 0.45, -60], femoral], 6, 4.5, tissue.artery)
      paintVessel(canvas, [[side * 8, sacrumY - 40, 110], [side * 38, sacrumY - 38, 45], [side * (cRx * 0.45 - 12), -cA * 0.08, 0], [side * (cRx * 0.55 - 14), -cA * 0.4, -60], [femoral[0] - side * 14, femoral[1] + 6, -100]], 8, 6, tissue.vein)
      const iia = paintVessel(canvas, [bif, [side * 45, sacrumY - 30, 20], [side * 50, sacrumY - 20, -10]], 4, 3, tissue.artery)
      const inPelvis = (p: Vec3) => Math.abs(p[0]) < cRx * 0.5 && Math.abs(p[0]) > 20 && p[1] > -cA * 0.3 && p[1] < sacrumY - 10 && p[2] > -105 && p[2] < 30
      paintBranches(canvas, growTree(rng, iia[iia.length - 1], [side * 0.2, 0.3, -1], 2.5, 0.8, 30, inPelvis), tissue.artery)
      paintBranches(canvas, growTree(rng, iia[iia.length - 1], [side * 0.4, -0.2, -1], 2.5, 0.8, 30, inPelvis), tissue.vein)
      const tag = side < 0 ? 'R' : 'L'
      stations.push(
        { name: `common iliac ${tag}`, anchor: [side * 28, sacrumY - 55, 75], spread: [8, 8, 20] },
        { name: `external iliac ${tag}`, anchor: [side * (cRx * 0.45 - 18), -cA * 0.2, -10], spread: [8, 10, 30] },
        { name: `internal iliac ${tag}`, anchor: [side * 40, sacrumY - 30, 0], spread: [8, 10, 20] },
        { name: `obturator ${tag}`, anchor: [side * (cRx * 0.5 - 25), -cA * 0.05, -50], spread: [6, 12, 15] },
        { name: `inguinal ${tag}`, anchor: [side * cRx * 0.55, -cA * 0.75, -100], spread: [15, 6, 8] },
      )
    }
    stations.push({ name: 'presacral', anchor: [0, sacrumY - 32, 20], spread: [12, 5, 30] })
    return stations
  },
}

function paintPelvicBones(ctx: SiteContext, cRx: number, cA: number, sacrumY: number): void {
  const { canvas, tissue } = ctx
  paintSpine(ctx, 0, sacrumY - 20, 85, 110, 22, 30)
  const sacrum: Section[] = [
    { z: -70, cx: 0, cy: sacrumY + 35, rx: 12, ryAnt: 8, ryPost: 8 },
    { z: 10, cx: 0, cy: sacrumY + 18, rx: 30, ryAnt: 12, ryPost: 12 },
    { z: 85, cx: 0, cy: sacrumY - 5, rx: 50, ryAnt: 18, ryPost: 14 },
  ]
  canvas.paint({ kind: 'profile', sections: sacrum }, tissue.cortex)
  canvas.paint({ kind: 'profile', sections: insetProfile(sacrum, 2.5) }, tissue.marrow)
  for (const [t, shrink] of [[tissue.cortex, 0], [tissue.marrow, 2.5]] as const) {
    for (const side of [-1, 1]) {
      const wing = frameAlong([side * 0.72, -0.68, 0.05])
      canvas.paint({ kind: 'ellipsoid', centre: [side * (cRx * 0.38 + 20), sacrumY - 22, 55], radii: [72 - shrink, 7 - shrink, 45 - shrink], axes: wing }, t)
      const hip: Vec3 = [side * cRx * 0.58, -cA * 0.15, -75]
      canvas.paint({ kind: 'ellipsoid', centre: [side * cRx * 0.55, -cA * 0.05, -45], radii: [22 - shrink, 34 - shrink, 35 - shrink] }, t)
      canvas.paint({ kind: 'ellipsoid', centre: hip, radii: [24 - shrink, 24 - shrink, 24 - shrink] }, t)
      canvas.paint({ kind: 'capsule', a: hip, b: [side * cRx * 0.85, -cA * 0.05, -110], ra: 15 - shrink, rb: 18 - shrink }, t)
      canvas.paint({ kind: 'capsule', a: [side * cRx * 0.45, -cA * 0.35, -85], b: [side * 10, -cA * 0.75, -105], ra: 9 - shrink, rb: 10 - shrink }, t)
      canvas.paint({ kind: 'capsule', a: [side * cRx * 0.5, 10, -85], b: [side * cRx * 0.42, 40, -110], ra: 13 - shrink, rb: 15 - shrink }, t)
    }
  }
  for (const side of [-1, 1]) {
    // iliopsoas in front of the iliac wing and hip, obturator internus on the pelvic side wall
    paintVessel(canvas, [[side * 40, sacrumY - 50, 110], [side * cRx * 0.6, -cA * 0.25, 20], [side * cRx * 0.62, -cA * 0.45, -60], [side * cRx * 0.6, -cA * 0.45, -110]], 18, 20, tissue.muscle)
    paintOrgan(ctx, [side * (cRx * 0.5 - 10), -cA * 0.02, -70], [9, 38, 30], tissue.muscle)
  }
}
