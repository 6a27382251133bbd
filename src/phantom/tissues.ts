/**
 * Tissue classes and their values in each modality: CT in HU, PET in SUV, MR as T2-weighted signal
 * (arbitrary units, 0-1000: fluid brightest, fat bright on fast spin echo, muscle dark, flow voids).
 */
import { Rng } from './random.js'

/** What a voxel is, for placement rules and tests (stored per voxel where a part covers >= half). */
export enum TissueClass {
  Air = 0, Fat = 1, Soft = 2, Muscle = 3, Bone = 4, Lung = 5, Airway = 6, Vessel = 7, Organ = 8, Bowel = 9, Node = 10,
}

export interface Tissue {
  cls: TissueClass
  ct: number
  pet: number
  mr: number
}

function t(cls: TissueClass, ct: number, pet: number, mr: number): Tissue {
  return { cls, ct, pet, mr }
}

/**
 * The tissues of one case. Contrast timing (arterial or portal venous), oral contrast and
 * physiological uptake vary between cases as they do between patients.
 */
export function casePalette(rng: Rng) {
  const arterial = rng.chance(0.35)
  const artery = arterial ? rng.uniform(250, 380) : rng.uniform(150, 210)
  const vein = arterial ? rng.uniform(90, 140) : rng.uniform(140, 190)
  const blood = rng.uniform(1.4, 2.0)
  const oral = rng.chance(0.4)
  return {
    air: t(TissueClass.Air, -1000, 0, 0),
    fat: t(TissueClass.Fat, rng.uniform(-115, -90), 0.3, 700),
    skin: t(TissueClass.Soft, rng.uniform(30, 50), 0.6, 300),
    soft: t(TissueClass.Soft, rng.uniform(35, 50), 0.8, 320),
    muscle: t(TissueClass.Muscle, rng.uniform(45, 60), rng.uniform(0.6, 0.9), 150),
    cortex: t(TissueClass.Bone, rng.uniform(800, 1100), 0.5, 30),
    marrow: t(TissueClass.Bone, rng.uniform(180, 280), rng.uniform(1.2, 1.9), 550),
    cartilage: t(TissueClass.Bone, rng.uniform(90, 130), 0.5, 250),
    disc: t(TissueClass.Bone, rng.uniform(70, 95), 0.6, 600),
    csf: t(TissueClass.Organ, rng.uniform(5, 15), 0.2, 1000),
    lung: t(TissueClass.Lung, rng.uniform(-880, -820), 0.4, 40),
    airway: t(TissueClass.Airway, -1000, 0, 0),
    artery: t(TissueClass.Vessel, artery, blood, 50),
    vein: t(TissueClass.Vessel, vein, blood, 80),
    heartWall: t(TissueClass.Organ, rng.uniform(80, 110), rng.uniform(2, 8), 120),
    liver: t(TissueClass.Organ, arterial ? rng.uniform(70, 90) : rng.uniform(100, 125), rng.uniform(1.9, 2.6), 200),
    spleen: t(TissueClass.Organ, arterial ? rng.uniform(110, 140) : rng.uniform(105, 125), rng.uniform(1.6, 2.2), 450),
    kidney: t(TissueClass.Organ, arterial ? rng.uniform(180, 260) : rng.uniform(150, 190), rng.uniform(3, 8), 500),
    renalPelvis: t(TissueClass.Organ, rng.uniform(5, 20), rng.uniform(8, 25), 950),
    pancreas: t(TissueClass.Organ, rng.uniform(80, 110), rng.uniform(1.3, 1.9), 350),
    thyroid: t(TissueClass.Organ, rng.uniform(110, 150), rng.uniform(1.2, 2.2), 350),
    gland: t(TissueClass.Organ, rng.uniform(40, 70), rng.uniform(1.5, 2.5), 420),
    parotid: t(TissueClass.Organ, rng.uniform(-20, 20), rng.uniform(1.5, 2.5), 550),
    bowelWall: t(TissueClass.Bowel, rng.uniform(60, 90), rng.uniform(1.4, 3.0), 250),
    bowelFluid: t(TissueClass.Bowel, oral ? rng.uniform(180, 300) : rng.uniform(5, 25), rng.uniform(0.8, 1.6), 850),
    bowelGas: t(TissueClass.Bowel, -950, 0, 0),
    stool: t(TissueClass.Bowel, rng.uniform(-60, 10), rng.uniform(1.0, 2.0), 350),
    bladder: t(TissueClass.Bowel, rng.uniform(3, 15), rng.uniform(10, 40), 1000),
    prostate: t(TissueClass.Organ, rng.uniform(35, 50), rng.uniform(1.5, 2.5), 380),
  }
}

export type Palette = ReturnType<typeof casePalette>

/** Node tissue: soft tissue that enhances a little; PET by class. */
export function nodeTissue(ct: number, pet: number, mr: number): Tissue {
  return t(TissueClass.Node, ct, pet, mr)
}
