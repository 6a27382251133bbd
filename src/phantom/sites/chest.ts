/**
 * Chest: thoracic wall with ribs, sternum, scapulae and clavicles; lungs with branching pulmonary
 * vessels; mediastinal fat with heart, aorta and its arch branches, SVC, azygos, pulmonary arteries,
 * trachea, bronchi and oesophagus; liver dome and stomach below the diaphragm.
 * Stations follow the IASLC map (2R/2L, 3a, 4R/4L, 5, 6, 7, 8, 10R/10L).
 */
import { Vec3 } from '../../volume/volume.js'
import { Section, sectionAt, insetProfile } from '../canvas.js'
import { frameAlong, growTree, paintBranches, paintVessel } from '../geometry.js'
import { Palette } from '../tissues.js'
import { paintBodyWall, paintTable, paintSpine, SiteContext, SiteModel, Station } from './site.js'

export const chest: SiteModel = {
  name: 'chest',
  fov: [400, 400, 240],
  paint(ctx) {
    const { rng } = ctx
    const W = rng.uniform(145, 172), A = rng.uniform(105, 125), P = rng.uniform(100, 115)
    const fat = rng.uniform(8, 25), muscle = rng.uniform(6, 10)
    const body: Section[] = [
      { z: -130, cx: 0, cy: 0, rx: W, ryAnt: A, ryPost: P },
      { z: 0, cx: 0, cy: 0, rx: W * 0.98, ryAnt: A * 0.98, ryPost: P },
      { z: 130, cx: 0, cy: 0, rx: W * 0.88, ryAnt: A * 0.82, ryPost: P * 0.92 },
    ]
    paintTable(ctx, body)
    const wall = paintBodyWall(ctx, body, fat, muscle)
    // the back is thicker than the sides: scapulae, trapezius and latissimus lie behind the ribs
    const lung = insetProfile(wall, 8).map((s) => ({ ...s, ryPost: s.ryPost - 18, ryAnt: s.ryAnt - 4 }))
    const thorax = paintThorax(ctx, W, lung, P - fat - 72)
    paintRibCage(ctx, lung, thorax.sternumBack, W, P)
    return thorax.stations
  },
}

interface ThoraxLandmarks { stations: Station[]; sternumBack: number }

/**
 * Lungs, mediastinum and everything in it. `spineY` is the centre of the vertebral bodies.
 * Shared with the axilla site, whose field of view holds the upper chest.
 */
export function paintThorax(ctx: SiteContext, W: number, lung: Section[], spineY: number): ThoraxLandmarks {
  const { canvas, rng, tissue } = ctx
  const sY = spineY, r = 16
  const sternumBack = -sectionAt(lung, 0).ryAnt
  const spineFront = sY - r * 0.85
  const tY = sY - 38 // trachea
  canvas.paint({ kind: 'profile', sections: lung }, tissue.lung)
  const midY = (sternumBack + spineFront) / 2, halfDepth = (spineFront - sternumBack) / 2 + 4
  const med = (z: number, cx: number, rx: number): Section => ({ z, cx, cy: midY, rx, ryAnt: halfDepth, ryPost: halfDepth })
  const mediastinum = [med(-130, 18, 80), med(-40, 18, 78), med(0, 10, 60), med(30, 4, 56), med(75, 2, 50), med(130, 0, 40)]
  canvas.paint({ kind: 'profile', sections: mediastinum }, tissue.fat)
  paintSpine(ctx, 0, sY, -130, 130, r, 26)
  for (const side of [-1, 1]) {
    canvas.paint({ kind: 'profile', sections: [{ z: -130, cx: side * 30, cy: sY + 44, rx: 22, ryAnt: 16, ryPost: 16 }, { z: 130, cx: side * 28, cy: sY + 42, rx: 20, ryAnt: 15, ryPost: 15 }] }, tissue.muscle)
  }
  paintUpperAbdomen(ctx, W, sY)
  // heart in its pericardial fat, chambers filled with contrast blood
  const heartCentre: Vec3 = [20, (sternumBack + spineFront) / 2 - 2, -72]
  const hr = Math.min(46, halfDepth * 0.92)
  const heartAxes = frameAlong([0.55, -0.45, -0.35])
  canvas.paint({ kind: 'ellipsoid', centre: heartCentre, radii: [62, hr + 3, 53], axes: heartAxes }, tissue.fat)
  canvas.paint({ kind: 'ellipsoid', centre: heartCentre, radii: [58, hr, 49], axes: heartAxes }, tissue.heartWall)
  const chamber = (dx: number, dy: number, dz: number, rad: Vec3, t: Palette['artery']) =>
    canvas.paint({ kind: 'ellipsoid', centre: [heartCentre[0] + dx, heartCentre[1] + dy, heartCentre[2] + dz], radii: rad }, { ...t, cls: tissue.heartWall.cls })
  chamber(14, 6, -4, [22, 18, 30], tissue.artery) // left ventricle
  chamber(-14, -12, 2, [22, 16, 28], tissue.vein) // right ventricle
  chamber(-4, 20, 24, [26, 13, 16], tissue.artery) // left atrium
  // airway and oesophagus
  const carinaZ = 25 + rng.uniform(-8, 8)
  paintVessel(canvas, [[4, sY - 23, -130], [4, sY - 22, 0], [2, sY - 23, 130]], 8, 8, tissue.muscle)
  paintVessel(canvas, [[4, sY - 23, -130], [4, sY - 22, 0], [2, sY - 23, 130]], 2.5, 2.5, tissue.airway)
  const bronchusR: Vec3[] = [[0, tY, carinaZ], [-22, tY + 4, carinaZ - 12], [-42, tY + 8, carinaZ - 25]]
  const bronchusL: Vec3[] = [[0, tY, carinaZ], [26, tY + 6, carinaZ - 14], [46, tY + 12, carinaZ - 32]]
  for (const [path, rad] of [[[[0, tY, 130], [0, tY, carinaZ]], 9], [bronchusR, 7], [bronchusL, 6.5]] as [Vec3[], number][]) {
    paintVessel(canvas, path, rad + 1.5, rad + 1.5, tissue.soft)
  }
  for (const [path, rad] of [[[[0, tY, 130], [0, tY, carinaZ]], 9], [bronchusR, 7], [bronchusL, 6.5]] as [Vec3[], number][]) {
    paintVessel(canvas, path, rad, rad, tissue.airway)
  }
  // great vessels
  const aR = rng.uniform(13, 17)
  const ascTop: Vec3 = [-8, tY - 30, 52]
  paintVessel(canvas, [[4, tY - 34, -28], [-6, tY - 32, 20], ascTop, [2, tY - 18, 68], [16, tY + 4, 66], [22, sY - 8, 50], [22, sY - 8, 0], [16, sY - 10, -130]], aR, aR * 0.8, tissue.artery)
  paintVessel(canvas, [[-2, tY - 20, 66], [-14, tY - 20, 100], [-24, tY - 14, 130]], 6.5, 6, tissue.artery)
  paintVessel(canvas, [[8, tY - 12, 70], [14, tY - 10, 100], [16, tY - 8, 130]], 4.5, 4.5, tissue.artery)
  paintVessel(canvas, [[16, tY, 68], [26, tY + 2, 100], [48, tY - 4, 126], [80, tY - 6, 134]], 5, 5, tissue.artery)
  const svcX = -38 - rng.uniform(0, 4)
  paintVessel(canvas, [[svcX - 8, tY - 22, 132], [svcX, tY - 24, 90], [svcX, tY - 26, 20], [svcX + 6, tY - 28, -25]], 9, 10, tissue.vein)
  paintVessel(canvas, [[52, tY - 18, 124], [20, tY - 38, 104], [svcX, tY - 26, 92]], 6.5, 7, tissue.vein)
  paintVessel(canvas, [[-8, sY - 10, -130], [-9, sY - 10, 28], [-20, tY + 6, 44], [svcX + 2, tY - 18, 40]], 4.5, 4.5, tissue.vein)
  const paBif: Vec3 = [14, tY - 14, carinaZ - 8]
  paintVessel(canvas, [[18, tY - 44, -28], [22, tY - 26, 6], paBif], 13, 12, tissue.vein)
  const hilumR: Vec3 = [-50, tY - 4, carinaZ - 22], hilumL: Vec3 = [52, tY + 4, carinaZ - 18]
  paintVessel(canvas, [paBif, [-6, tY - 18, carinaZ - 10], [-30, tY - 14, carinaZ - 14], hilumR], 10, 9, tissue.vein)
  paintVessel(canvas, [paBif, [34, tY - 2, carinaZ - 4], hilumL], 10, 9, tissue.vein)
  const la: Vec3 = [heartCentre[0] - 4, heartCentre[1] + 20, heartCentre[2] + 24]
  paintVessel(canvas, [[-44, tY + 14, carinaZ - 45], [-20, tY + 12, carinaZ - 60], la], 6.5, 7, tissue.artery)
  paintVessel(canvas, [[46, tY + 18, carinaZ - 42], [22, tY + 14, carinaZ - 58], la], 6.5, 7, tissue.artery)
  paintLungVessels(ctx, lung, mediastinum, hilumR, hilumL)
  const st = (name: string, anchor: Vec3, spread: Vec3): Station => ({ name, anchor, spread })
  return {
    sternumBack,
    stations: [
      st('2R', [-18, tY - 8, 100], [8, 8, 18]),
      st('2L', [16, tY - 4, 100], [8, 8, 18]),
      st('3a', [0, (tY - 48 + sternumBack) / 2, 80], [16, 8, 25]),
      st('4R', [-20, tY - 8, carinaZ + 18], [5, 8, 12]),
      st('4L', [14, tY + 2, carinaZ + 15], [6, 6, 8]),
      st('5', [30, tY - 12, carinaZ + 14], [6, 6, 6]),
      st('6', [-2, tY - 50, 70], [10, 6, 15]),
      st('7', [2, tY + 12, carinaZ - 22], [8, 6, 10]),
      st('8', [-8, sY - 26, -50], [8, 6, 25]),
      st('10R', [-34, tY - 2, carinaZ - 4], [6, 6, 8]),
      st('10L', [34, tY + 14, carinaZ - 4], [6, 6, 8]),
    ],
  }
}

/** Liver dome, stomach and spleen under the diaphragm, at the bottom of a chest field of view. */
function paintUpperAbdomen(ctx: SiteContext, W: number, sY: number): void {
  const { canvas, tissue } = ctx
  canvas.paint({ kind: 'ellipsoid', centre: [-40, -5, -178], radii: [W * 0.72, 95, 88] }, tissue.liver)
  canvas.paint({ kind: 'ellipsoid', centre: [60, -15, -170], radii: [52, 48, 62] }, tissue.bowelWall)
  canvas.paint({ kind: 'ellipsoid', centre: [60, -15, -170], radii: [48, 44, 58] }, tissue.bowelFluid)
  canvas.paint({ kind: 'ellipsoid', centre: [60, -30, -125], radii: [30, 22, 14] }, tissue.bowelGas)
  canvas.paint({ kind: 'ellipsoid', centre: [82, sY + 10, -175], radii: [34, 40, 60] }, tissue.spleen)
}

/** Pulmonary vessel trees from each hilum, kept inside the lung and out of the mediastinum. */
function paintLungVessels(ctx: SiteContext, lung: Section[], mediastinum: Section[], hilumR: Vec3, hilumL: Vec3): void {
  const { canvas, rng, tissue } = ctx
  const inLung = (p: Vec3) => insideSection(lung, p, -5) && !insideSection(mediastinum, p, 2) && p[2] > -100 && p[2] < 128
  for (const [hilum, side] of [[hilumR, -1], [hilumL, 1]] as [Vec3, number][]) {
    // the trees start just outside the mediastinum, where the hilar vessels enter the lung
    const s = sectionAt(mediastinum, hilum[2])
    const root: Vec3 = [s.cx + side * (s.rx + 4), hilum[1], hilum[2]]
    paintVessel(canvas, [hilum, root], 7, 6, tissue.vein)
    for (let t = 0; t < 14; t++) {
      const dir: Vec3 = [side * rng.uniform(0.2, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)]
      paintBranches(canvas, growTree(rng, root, dir, rng.uniform(2.5, 4.5), 0.7, 24, inLung), t % 2 ? tissue.vein : { ...tissue.vein, ct: tissue.vein.ct * 0.8 })
    }
  }
}

export function insideSection(secs: Section[], p: Vec3, margin: number): boolean {
  if (p[2] < secs[0].z || p[2] > secs[secs.length - 1].z) return false
  const s = sectionAt(secs, p[2])
  const dy = p[1] - s.cy
  const ry = (dy < 0 ? s.ryAnt : s.ryPost) + margin, rx = s.rx + margin
  return rx > 0 && ry > 0 && (((p[0] - s.cx) / rx) ** 2 + (dy / ry) ** 2) <= 1
}

/** Ribs with marrow and costal cartilage, sternum, clavicles and scapulae with their muscles. */
export function paintRibCage(ctx: SiteContext, lung: Section[], sternumBack: number, W: number, P: number, zTop = 120): void {
  const { canvas, tissue } = ctx
  const onWall = (side: number, alpha: number, z: number, out: number): Vec3 => {
    const s = sectionAt(lung, z)
    const c = Math.cos(alpha)
    return [side * (s.rx + out) * Math.sin(alpha), s.cy + c * ((c > 0 ? s.ryPost : s.ryAnt) + out), z]
  }
  for (const side of [-1, 1]) {
    for (let zPost = zTop; zPost > -140; zPost -= 23) {
      const rib: Vec3[] = [], cartilage: Vec3[] = []
      for (let a = 0.3; a <= 2.45; a += 0.3) rib.push(onWall(side, a, zPost - 34 * ((a - 0.3) / 2.15) ** 1.3, 4))
      for (let a = 2.45; a <= 2.95; a += 0.25) cartilage.push(onWall(side, a, zPost - 34 - 6 * (a - 2.45), 3))
      canvas.paintTube(rib, rib.map(() => 5.5), tissue.cortex)
      canvas.paintTube(rib, rib.map(() => 3.2), tissue.marrow)
      canvas.paintTube(cartilage, cartilage.map(() => 4), tissue.cartilage)
    }
    const scap = onWall(side, 0.75, 55, 13)
    const axes: [Vec3, Vec3, Vec3] = [[side * 0.9, -0.44, 0], [side * 0.44, 0.9, 0], [0, 0, 1]]
    canvas.paint({ kind: 'ellipsoid', centre: scap, radii: [55, 11, 80], axes }, tissue.muscle)
    canvas.paint({ kind: 'ellipsoid', centre: scap, radii: [45, 3, 68], axes }, tissue.cortex)
    paintVessel(canvas, [[side * 18, sternumBack - 8, 112], [side * W * 0.5, sternumBack + 4, 126], [side * W * 0.82, P * 0.1, 134]], 7, 6, tissue.cortex)
  }
  const sternum: Section[] = [
    { z: -50, cx: 0, cy: sternumBack - 7, rx: 14, ryAnt: 6, ryPost: 6 },
    { z: 85, cx: 0, cy: sternumBack - 7, rx: 16, ryAnt: 6, ryPost: 6 },
    { z: 112, cx: 0, cy: sternumBack - 8, rx: 26, ryAnt: 8, ryPost: 8 },
  ]
  canvas.paint({ kind: 'profile', sections: sternum }, tissue.cortex)
  canvas.paint({ kind: 'profile', sections: insetProfile(sternum, 2) }, tissue.marrow)
}

