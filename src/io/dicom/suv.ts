/**
 * PET activity concentration (Bq/ml) to body-weight SUV:
 *   SUVbw = C(t) · weight[g] / (injected dose[Bq] · 2^(-Δt / T½))
 * where Δt runs from the radiopharmaceutical start time to the time the scanner decay-corrected to
 * (SeriesTime for DecayCorrection START, the usual case). This follows the QIBA / Kinahan
 * "SUV calculation" profile for the common Units = BQML case.
 */
import { Dataset, num, str } from './header.js'

export interface SuvResult {
  factor: number | null
  reason?: string
  details?: Record<string, unknown>
}

export function suvFactor(ds: Dataset): SuvResult {
  const units = str(ds, 'Units').toUpperCase()
  if (units === 'GML') return { factor: 1, details: { units, note: 'stored values are already SUVbw' } }
  if (units !== 'BQML') return { factor: null, reason: `PET Units '${units || 'missing'}' cannot be converted to SUV` }
  const weightKg = num(ds, 'PatientWeight')
  if (!(weightKg > 0)) return { factor: null, reason: 'PatientWeight is missing' }
  const info = radiopharmaceutical(ds)
  if (!info) return { factor: null, reason: 'RadiopharmaceuticalInformationSequence is missing' }
  const dose = Number(info.RadionuclideTotalDose)
  const halfLife = Number(info.RadionuclideHalfLife)
  if (!(dose > 0) || !(halfLife > 0)) return { factor: null, reason: 'injected dose or half-life is missing' }
  const decayCorrection = str(ds, 'DecayCorrection').toUpperCase() || 'START'
  const injected = injectionSeconds(info)
  const reference = secondsOfDay(str(ds, decayCorrection === 'ADMIN' ? 'AcquisitionTime' : 'SeriesTime') || str(ds, 'AcquisitionTime'))
  if (injected === null || reference === null) return { factor: null, reason: 'injection or series time is missing' }
  let delta = decayCorrection === 'ADMIN' ? 0 : reference - injected
  if (delta < 0) delta += 24 * 3600 // the scan ran past midnight
  const decayedDose = dose * Math.pow(2, -delta / halfLife)
  const factor = (weightKg * 1000) / decayedDose
  return {
    factor,
    details: { units, weight_kg: weightKg, injected_dose_bq: dose, half_life_s: halfLife, decay_seconds: delta, decay_correction: decayCorrection },
  }
}

function radiopharmaceutical(ds: Dataset): Dataset | null {
  const seq = ds.RadiopharmaceuticalInformationSequence
  const item = Array.isArray(seq) ? seq[0] : seq
  return item && typeof item === 'object' ? item : null
}

function injectionSeconds(info: Dataset): number | null {
  const dt = str(info, 'RadiopharmaceuticalStartDateTime')
  if (dt.length >= 14) return secondsOfDay(dt.slice(8))
  return secondsOfDay(str(info, 'RadiopharmaceuticalStartTime'))
}

/** DICOM TM (HHMMSS.frac, or HH:MM:SS in old files) to seconds since midnight. */
export function secondsOfDay(tm: string): number | null {
  const t = tm.replace(/:/g, '').trim()
  if (!/^\d{2,6}(\.\d+)?$/.test(t)) return null
  const hh = Number(t.slice(0, 2)), mm = Number(t.slice(2, 4) || 0), ss = Number(t.slice(4) || 0)
  return hh * 3600 + mm * 60 + ss
}
