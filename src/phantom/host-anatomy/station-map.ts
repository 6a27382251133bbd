/**
 * The map of lymph-node stations on the canonical coarse grid, from the landmarks the detector found.
 *
 * Chest stations follow the IASLC map, approximated from what can be seen without labels: the
 * trachea's centre and radius per slice, the carina, the main bronchi, the lung apices and domes,
 * the mediastinum between the lungs and the front of the spine. Distances are in mm; dx grows to
 * the patient's left, dy backwards, dz upwards. Axillary stations are the deep fat lateral to the
 * chest wall, retroperitoneal ones the fat in front of and beside the spine below the diaphragm,
 * named after the aorta and the cava. A voxel joins at most one station (the first drawn below) and
 * only if it is fat or soft tissue inside the body: not lung, airway, bone, enhanced vessel, and
 * at least 10 mm from the skin (25 mm in the axilla), so never subcutaneous fat.
 */
import { axillary, retroperitoneal } from './axilla-abdomen-stations.js'
import { aortopulmonary, chestPrerequisites, hilar, paraoesophageal, paratracheal, subcarinal, supraclavicular } from './chest-stations.js'
import { Landmarks, RegionName, StationMap } from './stations.js'

/** Draws every station the landmarks allow, and says why each region that cannot be drawn is missing. */
export function mapStations(lm: Landmarks): StationMap {
  const allowed = allowedVoxels(lm)
  const map = new Uint8Array(lm.L.voxels)
  const reasons: StationMap['reasons'] = {}
  const why = (region: RegionName, reason: string | null) => { if (reason) reasons[region] = reason }
  why('mediastinum', chestPrerequisites(lm))
  why('hila', chestPrerequisites(lm))
  if (!reasons.mediastinum) {
    subcarinal(lm, allowed, map)
    hilar(lm, allowed, map)
    paratracheal(lm, allowed, map)
    aortopulmonary(lm, allowed, map)
    paraoesophageal(lm, allowed, map)
  }
  why('supraclavicular fossae', supraclavicular(lm, allowed, map))
  why('axillae', axillary(lm, allowed, map))
  why('retroperitoneum', retroperitoneal(lm, allowed, map))
  return { map, reasons }
}

/** Fat or soft tissue inside the body, off lung, airway, bone and enhanced vessels, 10 mm or more under the skin. */
function allowedVoxels(lm: Landmarks): Uint8Array {
  const out = new Uint8Array(lm.L.voxels)
  for (let v = 0; v < out.length; v++) {
    const h = lm.hu[v]
    if (lm.body[v] && !lm.lungs[v] && !lm.vessels.mask[v] && h >= -250 && h <= 120 && lm.airwayMm[v] > 3 && lm.skinMm[v] >= 10) out[v] = 1
  }
  return out
}
