/**
 * New DICOM UIDs under the 2.25 root (PS3.5 B.2): "2.25." followed by a random 128-bit UUID as a
 * decimal integer. Needs no registered organisation root and cannot collide in practice.
 */
import { randomUUID } from 'node:crypto'

export function newUid(): string {
  return `2.25.${BigInt('0x' + randomUUID().replace(/-/g, '')).toString()}`
}

/** Today's date and time in DICOM DA (YYYYMMDD) and TM (HHMMSS) form, local time. */
export function dicomNow(now = new Date()): { date: string; time: string } {
  const pad = (n: number) => String(n).padStart(2, '0')
  return {
    date: `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`,
    time: `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`,
  }
}
